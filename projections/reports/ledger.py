"""The subsidy ledger: eligible, claimed, approved, rejected and corrected side by side per
office, scheme, person and month, totalled exactly in cents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import partial

from projections.reports.common import definition_of
from projections.reports.eligibility import eligible_months
from projections.reports.history import CaseHistory, Claim, iter_cases, month_days
from projections.reports.model import Params, ReportTable, Value
from projections.reports.monthly import (
    RefundRate,
    active_people,
    count_months,
    month_counts,
    refund_rate,
)
from projections.reports.split import in_two, worth_splitting
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
SUMMED = ("eligible_cents", "claimed_cents", "approved_cents", "rejected_cents", "corrected_cents")


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


Key = tuple[str, str, str, str]
MonthPeople = tuple[dict[tuple[str, str], int], date | None]


def ledger_lines(
    cases: list[CaseHistory], params: Params, counts: dict[str, dict[str, int]]
) -> dict[Key, Line]:
    """The ledger's lines of ``cases`` keyed by office, scheme, person and month; ``counts``
    are every office's monthly counts (of all cases), which set the refund rates."""
    rates: dict[tuple[str, int], RefundRate] = {}

    def rate_of(office: str, year: int) -> RefundRate:
        if (office, year) not in rates:
            rates[(office, year)] = refund_rate(counts.get(office, {}), year, params.rules)
        return rates[(office, year)]

    lines: dict[Key, Line] = {}
    get = lines.get
    for case in cases:
        person = case.person
        for office, scheme, month, cents, rule_version in eligible_months(
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


@dataclass(frozen=True)
class Part:
    """The ledger of some of the people: its rows in order, the sums of the summed columns
    (eligible, claimed, approved, rejected, corrected) and the eligibility rule versions."""

    rows: list[tuple[Value, ...]]
    sums: tuple[int, int, int, int, int]
    versions: frozenset[str]


def ledger_part(lines: dict[Key, Line]) -> Part:
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
        for (office, scheme, person, month), line in _in_order(lines)
    ]
    every = lines.values()
    sums = (
        sum(line.eligible or 0 for line in every),
        sum(line.claimed for line in every),
        sum(line.approved for line in every),
        sum(line.rejected for line in every),
        sum(line.corrected for line in every),
    )
    return Part(rows, sums, frozenset(v for line in every for v in line.eligible_rules))


def _month_people(cases: list[CaseHistory], params: Params) -> MonthPeople:
    people, earliest = active_people(cases, params.on)
    return {key: len(persons) for key, persons in people.items()}, earliest


def _both_counts(mine: MonthPeople, theirs: MonthPeople, on: date) -> dict[str, dict[str, int]]:
    """The monthly counts of all people from those of two parts: as the parts hold different
    people, the numbers add up."""
    people = dict(mine[0])
    for key, number in theirs[0].items():
        people[key] = people.get(key, 0) + number
    earliest = min((d for d in (mine[1], theirs[1]) if d is not None), default=None)
    return month_counts(people, earliest, on)


def _part_of(cases: list[CaseHistory], params: Params, counts: dict[str, dict[str, int]]) -> Part:
    return ledger_part(ledger_lines(cases, params, counts))


def ledger_parts(db: Database, params: Params, *, split: bool | None = None) -> list[Part]:
    """The ledger in one part (one process) or two (two processes, see ``split``); ``split``
    None decides by the size of the store."""
    if split is None:
        split = worth_splitting(db)
    if not split:
        cases = list(iter_cases(db, params.on))
        return [_part_of(cases, params, count_months(cases, params.on))]
    return list(
        in_two(
            db,
            params,
            _month_people,
            partial(_both_counts, on=params.on),
            _part_of,
        )
    )


def _in_order(lines: dict[Key, Line]) -> list[tuple[Key, Line]]:
    """The lines in the order of their keys. Sorting a million 4-tuples compares the equal
    offices and schemes again and again; the keys joined by NUL sort the same (a NUL sorts
    before every other character) at a third of the cost, unless a key holds a NUL itself."""
    try:
        plain = "\0" not in "".join(map("".join, lines))
    except TypeError:  # not all strings
        plain = False
    if not plain:
        return sorted(lines.items())
    return [(key, lines[key]) for key in sorted(lines, key="\0".join)]


def _joined(rules: set[str]) -> str | None:
    """The rule versions in order, comma separated; None for none."""
    if not rules:
        return None
    if len(rules) == 1:
        return next(iter(rules)) or None
    return ", ".join(sorted(rules)) or None


def ledger_report(db: Database, params: Params, *, split: bool | None = None) -> ReportTable:
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
    parts = ledger_parts(db, params, split=split)
    # The parts hold different people, so no two rows share office, scheme, person and month:
    # sorting their concatenation merges two sorted runs.
    rows = [row for part in parts for row in part.rows]
    if len(parts) > 1:
        rows.sort()
    sums = [sum(column) for column in zip(*(part.sums for part in parts), strict=True)]
    summed = dict(zip(SUMMED, sums, strict=True))
    totals = tuple(summed.get(c) for c in COLUMNS)
    versions = frozenset().union(*(part.versions for part in parts))
    table = ReportTable(
        name="subsidy-ledger",
        title="Subsidy ledger",
        definition=definition_of(ledger_report),
        on=params.on,
        known_on=params.known_on,
        offices=None if params.offices is None else tuple(sorted(params.offices)),
        year=params.year,
        columns=COLUMNS,
        rows=(),
        totals=("TOTAL", *totals[1:]),
        rule_versions=tuple(sorted(versions)),
    )
    # The rows go in without validating each of their million cells again: ``ledger_part``
    # built them from the lines' strings, ints and Nones, which is what validation would check.
    return table.model_copy(update={"rows": tuple(rows)})
