"""The right over time in a demo case: the 2025 indexation, payments and formulier B claims."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Final

from events.base import Role
from projections.rules import percent_of
from services.commands.rights import RecordLeefloonPayment, ReviseLeefloon
from services.commands.subsidies import CorrectSubsidyClaim
from services.demo.cases import CaseWriter
from services.demo.story import days, evidence, month_end, months

INDEXATION: Final = date(2025, 2, 1)
"""The demo's indexation keeps its historical step key, so stores filled earlier stay valid."""


def indexations(w: CaseWriter) -> list[date]:
    """Every new leefloon amount of the rule book after the first version (health index)."""
    versions = sorted(v.valid_from for v in w.rules.rules["leefloon"].versions)
    return versions[1:]


def money(w: CaseWriter, until: date) -> None:
    """Monthly payments and formulier B claims until the right ends (or ``until``)."""
    last = min(until, (w.outflow_on or until) - days(1))
    for indexed in indexations(w):
        if w.start < indexed <= last:
            _indexation(w, indexed)
    for month in months(w.start, last):
        if month in w.suspended:
            continue
        _pay_and_claim(w, month)


def _indexation(w: CaseWriter, indexed: date) -> None:
    key = "index-2025" if indexed == INDEXATION else f"index-{indexed:%Y-%m}"
    decision, on = w.story.id(f"decision/{key}"), max(indexed - days(4), w.session)
    figure = w.rules.leefloon(w.category, indexed)
    w.story.add(
        key,
        ReviseLeefloon,
        on,
        w.actor(Role.BCSD),
        decision_id=decision,
        grant_decision_id=w.grant_id,
        cause="indexation",
        category=w.category,
        monthly_amount_cents=figure.cents,
        rate_valid_from=indexed,
        effective_from=indexed,
        rule_version=figure.rule_version,
    )
    w.notify(key, decision, on)


def _pay_and_claim(w: CaseWriter, month: date) -> None:
    s, rng, finance = w.story, w.rng, w.actor(Role.FINANCE)
    rate = w.rules.leefloon(w.category, month)
    first_day = max(month, w.start)
    share = (month_end(month).day - first_day.day + 1) / month_end(month).day
    amount = round(rate.cents * share)
    period = f"{month:%Y-%m}"
    paid_on = max(month, w.session + days(7))
    paid = s.add(
        f"pay/{period}",
        RecordLeefloonPayment,
        paid_on,
        finance,
        grant_decision_id=w.grant_id,
        month=period,
        amount_cents=amount,
        rule_version=rate.rule_version,
    )
    claim_id = s.id(f"claim/rmi/{period}")
    claimed_on = max(month_end(month) + days(10), paid_on + days(3))
    due = percent_of(amount, Decimal(w.refund_tier))
    wrong = rng.random() < 0.03
    w.claim(
        f"rmi/{period}",
        claim_id,
        claimed_on,
        scheme="rmi_base",
        period=period,
        amount_cents=due + (2_500 if wrong else 0),
        form="b",
        tier_percent=w.refund_tier,
        decision_id=w.grant_id,
        evidence=evidence(paid),
        rule_version="refund-2016",
    )
    if wrong:  # a typing error on formulier B, corrected before the payer answers
        fixed = s.id(f"claim/rmi/{period}/fixed")
        s.add(
            f"claim/rmi/{period}/fix",
            CorrectSubsidyClaim,
            claimed_on + days(12),
            finance,
            claim_id=fixed,
            supersedes=claim_id,
            changes=["amount"],
            scheme="rmi_base",
            period=period,
            amount_cents=due,
            form="b",
            tier_percent=w.refund_tier,
            decision_id=w.grant_id,
            evidence=evidence(paid),
            rule_version="refund-2016",
        )
        w.answer(f"rmi/{period}/fixed", fixed, claimed_on + days(12), due)
    else:
        w.answer(f"rmi/{period}", claim_id, claimed_on, due)
