"""Eligibility: what each case is eligible for, per subsidy scheme and month, derived from
its trajectory facts as true on a date, each amount naming the rule version it used.

- ``rmi_base``: the federal refund of the leefloon paid for the month (``LeefloonPaid``), at
  the office's refund rate for that year (see ``monthly``).
- ``gpmi``: 10 % of the leefloon of the person's category, from the month of signing for
  12 months (to the month of ``GpmiExtended.extended_until`` if later; no later than the
  month the GPMI ended), in months with at least one day of active (unsuspended) right.
- ``art60``: VDAB's compensation for every month with at least one day of a TWE/art. 60
  placement (rule ``twe``).
- ``twe``: VDAB's effort allowance for every month of a TWE/art. 60 placement that was
  registered in MLP by the month's last day, at most 24 months per placement.
- ``art61``: the art. 61 premium, pro rata to the weekly hours, for every month with at
  least one day of an art. 61 placement.
- ``lap`` and ``esf`` pay for an office's effort, not per person and month: no eligibility.

Months after the month of the report date are never eligible yet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from projections.reports.history import (
    CaseHistory,
    Grant,
    add_months,
    month_days,
    month_of,
    months_between,
)
from projections.reports.monthly import RefundRate
from projections.rules import Figure, NoRuleError, RuleBook, percent_of

RateOf = Callable[[str, int], RefundRate]


class Eligible(NamedTuple):
    """One month of one scheme a case is eligible for; ``cents`` None when no rule covers it."""

    case_id: str
    person: str
    office: str
    scheme: str
    month: str
    cents: int | None
    rule_version: str


EligibleMonth = tuple[str, str, str, int | None, str]
"""An ``Eligible`` without the case and person: office, scheme, month, cents, rule version."""


def eligibility(case: CaseHistory, on: date, rules: RuleBook, rate_of: RateOf) -> list[Eligible]:
    """Everything ``case`` is eligible for up to the month of ``on``."""
    return [
        Eligible(case.case_id, case.person, *m) for m in eligible_months(case, on, rules, rate_of)
    ]


def eligible_months(
    case: CaseHistory, on: date, rules: RuleBook, rate_of: RateOf
) -> list[EligibleMonth]:
    """``eligibility`` as plain tuples, for the ledger (which makes a million of them)."""
    last_month = month_of(on)
    out: list[EligibleMonth] = []
    offices: dict[str, str] = {}

    def office_of(month: str) -> str:
        """The office competent on the month's last day (or on ``on``, if earlier)."""
        office = offices.get(month)
        if office is None:
            office = offices[month] = case.office_on(min(month_days(month)[1], on))
        return office

    for month, cents in _paid_by_month(case).items():
        rate = rate_of(office_of(month), int(month[:4]))
        if month <= last_month:
            out.append(
                (
                    office_of(month),
                    "rmi_base",
                    month,
                    _refund(cents, rate.percent),
                    f"{rate.rule_version}@{rate.percent}%",
                )
            )
    for scheme, month, figure in _figure_months(case, on, rules):
        if month > last_month:
            continue
        if isinstance(figure, Figure):
            out.append((office_of(month), scheme, month, figure.cents, figure.rule_version))
        else:
            out.append((office_of(month), scheme, month, None, figure))
    return out


def _figure_months(
    case: CaseHistory, on: date, rules: RuleBook
) -> Iterator[tuple[str, str, Figure | str]]:
    for month, figure in _gpmi_months(case, on, rules):
        yield "gpmi", month, figure
    yield from _placement_months(case, on, rules)


@lru_cache(maxsize=1 << 14)
def _refund(cents: int, percent: int) -> int:
    """The federal refund of ``cents`` paid at ``percent``, to the cent (half up)."""
    return percent_of(cents, Decimal(percent))


def _paid_by_month(case: CaseHistory) -> dict[str, int]:
    paid: dict[str, int] = defaultdict(int)
    for month, _grant, cents in case.paid:
        paid[month] += cents
    return dict(paid)


def _first_active_day(grants: list[Grant], month: str, on: date) -> tuple[date, Grant] | None:
    """The month's first day (up to ``on``) with a right in force and not suspended."""
    first, last = month_days(month)
    found: tuple[date, Grant] | None = None
    for grant in grants:
        day = max(first, grant.effective_from)
        end = min(last, on) if grant.last_day is None else min(last, on, grant.last_day)
        while day <= end and (found is None or day < found[0]):
            if not grant.suspended(day):
                found = (day, grant)
                break
            day += timedelta(days=1)
    return found


_MEMO: dict[tuple[Any, ...], Figure | str] = {}


def _figure(compute: Callable[..., Figure], *args: Any) -> Figure | str:
    """The figure, or why no rule version covers it (remembered: rule books do not change)."""
    key = (compute, *args)
    if key not in _MEMO:
        try:
            _MEMO[key] = compute(*args)
        except NoRuleError as missing:
            _MEMO[key] = f"no rule: {missing}"
    return _MEMO[key]


def _gpmi_months(
    case: CaseHistory, on: date, rules: RuleBook
) -> Iterator[tuple[str, Figure | str]]:
    grants = list(case.grants.values())
    seen: set[str] = set()
    for gpmi in case.gpmis.values():
        try:
            max_months = int(rules.at("gpmi", gpmi.signed_on).param("max_months"))
        except NoRuleError as missing:
            yield month_of(gpmi.signed_on), f"no rule: {missing}"
            continue
        last = add_months(gpmi.signed_on.replace(day=1), max_months - 1)
        if gpmi.extended_until is not None and gpmi.extended_until > last:
            last = gpmi.extended_until
        if gpmi.ended_on is not None and gpmi.ended_on < last:
            last = gpmi.ended_on
        for month in months_between(gpmi.signed_on, min(last, on)):
            if month in seen or (active := _first_active_day(grants, month, on)) is None:
                continue
            seen.add(month)
            day, grant = active
            category = grant.category_on(day)
            start = month_days(month)[0]
            yield month, _figure(rules.gpmi_supplement, category, start)


def _placement_months(
    case: CaseHistory, on: date, rules: RuleBook
) -> Iterator[tuple[str, str, Figure | str]]:
    for p in case.placements.values():
        if p.placement_type not in ("twe_art60", "art61") or p.starts_on > on:
            continue
        end = on if p.ended_on is None else min(p.ended_on, on)
        effort_months = 0
        for month in months_between(p.starts_on, end):
            start, last_day = month_days(month)
            if p.placement_type == "art61":
                yield (
                    "art61",
                    month,
                    _figure(rules.art61_premium, p.hours_per_week, start),
                )
                continue
            yield (
                "art60",
                month,
                _figure(_twe, rules, start, "art60_compensation_cents_per_month"),
            )
            registered = p.mlp_months.get(month)
            if registered is None or registered > last_day:
                continue
            try:
                max_months = int(rules.at("twe", start).param("effort_max_months"))
            except NoRuleError as missing:
                yield "twe", month, f"no rule: {missing}"
                continue
            effort_months += 1
            if effort_months <= max_months:
                yield (
                    "twe",
                    month,
                    _figure(_twe, rules, start, "effort_cents_per_month"),
                )


def _twe(rules: RuleBook, month_start: date, parameter: str) -> Figure:
    version = rules.at("twe", month_start)
    return Figure(
        cents=int(version.param(parameter)),
        rule_version=version.version,
        uncertain=version.uncertain,
    )
