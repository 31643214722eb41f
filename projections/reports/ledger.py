"""The subsidy ledger: eligible, claimed, approved, rejected and corrected side by side per
office, scheme, person and month, totalled exactly in cents."""

from __future__ import annotations

from dataclasses import dataclass, field

from projections.reports.common import definition_of
from projections.reports.eligibility import eligibility
from projections.reports.history import CaseHistory, Claim, iter_cases, month_days
from projections.reports.model import Params, ReportTable, Value
from projections.reports.monthly import RefundRate, count_months, refund_rate
from services.db import Database

COLUMNS = (
    "office",
    "scheme",
    "person",
    "month",
    "eligible_cents",
    "eligible_rule",
    "claimed_cents",
    "approved_cents",
    "rejected_cents",
    "corrected_cents",
    "claim_rule",
)


@dataclass(slots=True)
class Line:
    eligible: int | None = None
    eligible_rules: set[str] = field(default_factory=set)
    claimed: int = 0
    approved: int = 0
    rejected: int = 0
    corrected: int = 0
    claim_rules: set[str] = field(default_factory=set)


def _original(case: CaseHistory, claim: Claim) -> Claim:
    while claim.supersedes is not None and claim.supersedes in case.claims:
        claim = case.claims[claim.supersedes]
    return claim


def ledger_lines(db: Database, params: Params) -> dict[tuple[str, str, str, str], Line]:
    """The ledger's lines keyed by office, scheme, person and month."""
    cases = list(iter_cases(db, params.on))
    counts = count_months(cases, params.on)
    rates: dict[tuple[str, int], RefundRate] = {}

    def rate_of(office: str, year: int) -> RefundRate:
        if (office, year) not in rates:
            rates[(office, year)] = refund_rate(counts.get(office, {}), year, params.rules)
        return rates[(office, year)]

    lines: dict[tuple[str, str, str, str], Line] = {}
    get = lines.get
    for case in cases:
        for _, person, office, scheme, month, cents, rule_version in eligibility(
            case, params.on, params.rules, rate_of
        ):
            if not params.counts(office):
                continue
            key = (office, scheme, person, month)
            if (line := get(key)) is None:
                line = lines[key] = Line()
            if cents is not None:
                line.eligible = (line.eligible or 0) + cents
            line.eligible_rules.add(rule_version)
        for claim in case.claims.values():
            if claim.superseded_by is not None:
                continue
            office = case.office_on(min(month_days(claim.period)[1], params.on))
            if not params.counts(office):
                continue
            key = (office, claim.scheme, case.person, claim.period)
            if (line := get(key)) is None:
                line = lines[key] = Line()
            line.claimed += claim.amount_cents
            if claim.status == "approved" and claim.approved_cents is not None:
                line.approved += claim.approved_cents
            if claim.status == "rejected":
                line.rejected += claim.amount_cents
            line.corrected += claim.amount_cents - _original(case, claim).amount_cents
            line.claim_rules.add(claim.rule_version or "-")
    return lines


def _joined(rules: set[str]) -> str | None:
    """The rule versions in order, comma separated; None for none."""
    if len(rules) == 1:
        return next(iter(rules)) or None
    return ", ".join(sorted(rules)) or None


def ledger_report(db: Database, params: Params) -> ReportTable:
    """One line per office, scheme, person (person reference, else the case) and month, as true on
    the report date. The office is the one competent for the case on the month's last day (or
    on the report date, if earlier). eligible_cents: what the trajectory facts make the case
    eligible for (see the eligibility rules: RMI refund at the office's refund rate of the
    year, GPMI 10 % for 12 months from the month of signing, TWE effort with MLP registration
    by month end, art. 60 compensation, art. 61 premium), with the rule version it used;
    empty when no rule version covers the month. claimed_cents: the claim lines that stand
    (not superseded by a correction), approved_cents and rejected_cents: of those, what the
    payer approved (its amount) and what it rejected (the claimed amount); corrected_cents:
    how much corrections changed the standing lines against their first submission
    (standing minus original). claim_rule: the rule versions the claim lines name. Totals are
    exact sums in cents; LAP and ESF have no per-person eligibility.
    """
    lines = ledger_lines(db, params)
    rows: list[tuple[Value, ...]] = [
        (
            office,
            scheme,
            person,
            month,
            line.eligible,
            _joined(line.eligible_rules),
            line.claimed,
            line.approved,
            line.rejected,
            line.corrected,
            _joined(line.claim_rules),
        )
        for (office, scheme, person, month), line in sorted(lines.items())
    ]
    sums = {
        "eligible_cents": sum(line.eligible or 0 for line in lines.values()),
        "claimed_cents": sum(line.claimed for line in lines.values()),
        "approved_cents": sum(line.approved for line in lines.values()),
        "rejected_cents": sum(line.rejected for line in lines.values()),
        "corrected_cents": sum(line.corrected for line in lines.values()),
    }
    totals = tuple(sums.get(c) for c in COLUMNS)
    versions = {v for line in lines.values() for v in line.eligible_rules}
    return ReportTable(
        name="subsidy-ledger",
        title="Subsidy ledger",
        definition=definition_of(ledger_report),
        on=params.on,
        known_on=params.known_on,
        offices=None if params.offices is None else tuple(sorted(params.offices)),
        year=params.year,
        columns=COLUMNS,
        rows=tuple(rows),
        totals=("TOTAL", *totals[1:]),
        rule_versions=tuple(sorted(versions)),
    )
