"""Monthly count: people with an active right on the last day of each month, and the
refund tier (staatstoelage) those counts set for each office."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from projections.reports.common import definition_of
from projections.reports.history import CaseHistory, iter_cases, month_days, months_between
from projections.reports.model import Params, ReportTable
from projections.rules import RuleBook, RuleVersion
from services.db import Database


def monthly_counts(db: Database, params: Params) -> dict[str, dict[str, int]]:
    """People with an active right on each month's last day, by office and month."""
    return count_months(iter_cases(db, params.on), params.on)


def count_months(cases: Iterable[CaseHistory], on: date) -> dict[str, dict[str, int]]:
    """``monthly_counts`` over cases already folded as true on ``on``."""
    people, earliest = active_people(cases, on)
    return month_counts({key: len(persons) for key, persons in people.items()}, earliest, on)


def active_people(
    cases: Iterable[CaseHistory], on: date
) -> tuple[dict[tuple[str, str], set[str]], date | None]:
    """The people with an active right on each complete month's last day by office and month,
    and the first day of any right (None without rights)."""
    people: dict[tuple[str, str], set[str]] = defaultdict(set)
    earliest: date | None = None
    for case in cases:
        if not case.grants:
            continue
        first = min(g.effective_from for g in case.grants.values())
        earliest = first if earliest is None else min(earliest, first)
        for month in months_between(first, on):
            last_day = month_days(month)[1]
            if last_day > on:
                break
            if case.right_active(last_day) is not None:
                people[(case.office_on(last_day), month)].add(case.person)
    return people, earliest


def month_counts(
    people: dict[tuple[str, str], int], earliest: date | None, on: date
) -> dict[str, dict[str, int]]:
    """Counts by office and month from the number of ``people`` per office and month."""
    # Every complete month since the first right counts, with zero where nobody was active.
    complete = [
        m
        for m in (() if earliest is None else months_between(earliest, on))
        if month_days(m)[1] <= on
    ]
    counts: dict[str, dict[str, int]] = {office: dict.fromkeys(complete, 0) for office, _ in people}
    for (office, month), number in people.items():
        counts[office][month] = number
    return counts


def year_average(counts: dict[str, int], year: int) -> Decimal | None:
    """The mean of the 12 monthly counts of ``year``; None unless all 12 are known."""
    months = [f"{year:04d}-{m:02d}" for m in range(1, 13)]
    if any(m not in counts for m in months):
        return None
    return Decimal(sum(counts[m] for m in months)) / 12


@dataclass(frozen=True)
class RefundRate:
    percent: int
    rule_version: str


def _tier(rule: RuleVersion, average: Decimal) -> int:
    percent = int(rule.param("base_percent"))
    for tier in rule.param("tiers"):
        if average >= int(tier["min_average_beneficiaries"]):
            percent = max(percent, int(tier["percent"]))
    return percent


def refund_rate(counts: dict[str, int], year: int, rules: RuleBook) -> RefundRate:
    """The office's refund rate for ``year`` from its history of monthly counts."""
    rule = rules.at("refund", date(year, 1, 1))
    base = int(rule.param("base_percent"))
    first_year = min((int(m[:4]) for m in counts), default=year) + 2
    rate, ever_above_base = base, False
    for y in range(first_year, year + 1):
        average, before = year_average(counts, y - 2), year_average(counts, y - 3)
        if average is None:
            rate = base
            continue
        target = _tier(rule, average)
        if target > rate:
            growth = int(rule.param("first_rise_min_growth_percent"))
            grew = before is not None and average * 100 >= before * (100 + growth)
            if ever_above_base or grew:
                rate = target
        elif target < rate:
            exempt = Decimal(rule.param("step_down_exempt_fall_below_percent"))
            small_fall = before is not None and (before - average) * 100 < before * exempt
            if not small_fall:
                rate = max(target, rate - int(rule.param("step_down_points_per_year")))
        ever_above_base = ever_above_base or rate > base
    return RefundRate(rate, rule.version)


def refund_rates(db: Database, params: Params) -> dict[str, RefundRate]:
    """Each office's refund rate for ``params.year``."""
    return {
        office: refund_rate(counts, params.year, params.rules)
        for office, counts in monthly_counts(db, params).items()
    }


def monthly_report(db: Database, params: Params) -> ReportTable:
    """Counts distinct people (person reference, else the case) whose right (leefloon or
    equivalent leefloon) is in force and not suspended on the last day of each month of the
    year, for the office competent on that day. Months whose last day lies after the report
    date are left out. average = the mean of the 12 monthly counts of the year (only when all
    12 are complete). refund_percent = the federal refund rate of the year, set by the average
    of the year before last: 55 %, 65 % from 500 and 70 % from 1,000 people; the first rise
    above the base rate also needs >= 5 % growth of that average over the year before; a fall
    below a threshold lowers the rate by 1 point a year, unless the average fell by less than
    3 %. A year whose year-before-last is not complete in the history gets the base rate
    (reading of the rule [I]).
    """
    counts = monthly_counts(db, params)
    rows = []
    versions = set()
    for office in sorted(o for o in counts if params.counts(o)):
        by_month = counts[office]
        rate = refund_rate(by_month, params.year, params.rules)
        versions.add(rate.rule_version)
        average = year_average(by_month, params.year)
        for m in range(1, 13):
            month = f"{params.year:04d}-{m:02d}"
            if month_days(month)[1] > params.on:
                break
            rows.append(
                (
                    office,
                    month,
                    by_month.get(month, 0),
                    None if average is None else f"{average:.2f}",
                    rate.percent,
                )
            )
    return ReportTable(
        name="monthly-count",
        title="Monthly count and refund tier",
        definition=definition_of(monthly_report),
        on=params.on,
        known_on=params.known_on,
        offices=None if params.offices is None else tuple(sorted(params.offices)),
        year=params.year,
        columns=("office", "month", "people", "average", "refund_percent"),
        rows=tuple(rows),
        rule_versions=tuple(sorted(versions)),
    )
