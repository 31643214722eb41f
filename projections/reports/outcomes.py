"""Cohort reports whose outcomes add up to the cohort: new-applicant outflow within 365
days, aftercare outcomes, and sustainable work after leaving for work."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from projections.reports.common import definition_of, percent, table
from projections.reports.history import CaseHistory, add_months, iter_cases
from projections.reports.model import Params, ReportTable, Value
from services.db import Database

WORK_REASONS = ("work", "own_business")
HORIZONS = (3, 6, 12)


def _in_year(day: date, params: Params) -> bool:
    return day.year == params.year and day <= params.on


def _cohort_rows(
    counts: dict[tuple[str, str], set[str]], order: list[str], params: Params
) -> list[tuple[Value, ...]]:
    offices = sorted({office for office, _ in counts})
    rows: list[tuple[Value, ...]] = []
    for office in offices:
        cohort = sum(len(p) for (o, _), p in counts.items() if o == office)
        for outcome in order:
            people = len(counts.get((office, outcome), set()))
            rows.append((office, outcome, people, percent(people, cohort)))
    return rows


def _new_applicant_start(case: CaseHistory, params: Params) -> date | None:
    for grant in sorted(case.grants.values(), key=lambda g: g.effective_from):
        start = grant.effective_from
        if not _in_year(start, params):
            continue
        before = add_months(start, -3)
        if not any(
            g is not grant and g.overlaps(before, start - timedelta(days=1))
            for g in case.grants.values()
        ):
            return start
    return None


def cohort_outflow_report(db: Database, params: Params) -> ReportTable:
    """Cohort: distinct people (person reference, else the case) whose right starts
    (effective_from) in the reporting year, on or before the report date, with no right in
    force during the 3 months before that start; a person counts once, with the first such
    start, for the office competent on that day. Outcome: the reason of the first recorded
    outflow (OutflowRecorded.outflow_on) within 365 days of the start (start + 364 days) and
    on or before the report date; none_within_365_days when the 365 days are over without one;
    window_open when they are not over yet on the report date and no outflow is recorded.
    Outcomes add up to the cohort; percent = people / cohort of the office.
    """
    from events.outflow import OutflowReason

    counts: dict[tuple[str, str], set[str]] = defaultdict(set)
    seen: set[str] = set()
    for case in iter_cases(db, params.on):
        start = _new_applicant_start(case, params)
        if start is None or case.person in seen:
            continue
        office = case.office_on(start)
        if not params.counts(office):
            continue
        seen.add(case.person)
        last = start + timedelta(days=364)
        outflows = sorted(o for o in case.outflows if start <= o[0] <= min(last, params.on))
        if outflows:
            outcome = outflows[0][1]
        elif last <= params.on:
            outcome = "none_within_365_days"
        else:
            outcome = "window_open"
        counts[(office, outcome)].add(case.person)
    order = [r.value for r in OutflowReason] + ["none_within_365_days", "window_open"]
    rows = _cohort_rows(counts, order, params)
    return table(
        params,
        name="cohort-outflow",
        title="New-applicant cohort: outflow within 365 days by reason",
        definition=definition_of(cohort_outflow_report),
        columns=("office", "reason", "people", "percent"),
        rows=rows,
        totals=("TOTAL", "cohort", sum(int(r[2] or 0) for r in rows), None),
    )


def aftercare_report(db: Database, params: Params) -> ReportTable:
    """Cohort: distinct people whose aftercare (nazorg) starts (AftercareStarted, business date)
    in the reporting year, on or before the report date; a person counts once, with the first
    such start, for the office competent on that day. Outcome: the outcome of that aftercare's
    end (AftercareEnded) on or before the report date, else ongoing. Outcomes add up to the
    cohort; percent = people / cohort of the office.
    """
    from events.placements import AftercareOutcome

    counts: dict[tuple[str, str], set[str]] = defaultdict(set)
    seen: set[str] = set()
    for case in iter_cases(db, params.on):
        started = sorted(
            (s for s in case.aftercare.values() if _in_year(s.starts_on, params)),
            key=lambda s: s.starts_on,
        )
        if not started or case.person in seen:
            continue
        first = started[0]
        office = case.office_on(first.starts_on)
        if not params.counts(office):
            continue
        seen.add(case.person)
        counts[(office, first.outcome or "ongoing")].add(case.person)
    order = [o.value for o in AftercareOutcome] + ["ongoing"]
    rows = _cohort_rows(counts, order, params)
    return table(
        params,
        name="aftercare-outcomes",
        title="Aftercare outcomes of the year's aftercare cohort",
        definition=definition_of(aftercare_report),
        columns=("office", "outcome", "people", "percent"),
        rows=rows,
        totals=("TOTAL", "cohort", sum(int(r[2] or 0) for r in rows), None),
    )


def _status_at(case: CaseHistory, left_on: date, months: int, on: date) -> str:
    horizon = add_months(left_on, months)
    if horizon > on:
        return "not_yet_due"
    back = case.right_in_force(horizon) is not None or any(
        left_on <= g.effective_from <= horizon for g in case.grants.values()
    )
    if back:
        return "back_on_leefloon"
    checks = sorted(c for c in case.employment_checks if left_on <= c[0] <= horizon)
    if not checks:
        return "unknown"
    return "sustained" if checks[-1][1] else "not_employed"


def sustainable_work_report(db: Database, params: Params) -> ReportTable:
    """Cohort: distinct people whose first outflow for work (OutflowRecorded with reason work or
    own_business) in the reporting year lies on or before the report date, for the office
    competent on the outflow date. At each horizon (+3, +6 and +12 months after the outflow
    date): not_yet_due if the horizon lies after the report date; else back_on_leefloon if a
    right starts between the outflow and the horizon or is in force on the horizon; else by
    the latest employment check (EmploymentVerified) between the outflow and the horizon:
    sustained if it found the person employed, not_employed if not, unknown without a check.
    No official definition exists [U]; this is the proposal of domain.md section 3 [I].
    Statuses add up to the cohort at every horizon.
    """
    statuses = ("sustained", "back_on_leefloon", "not_employed", "unknown", "not_yet_due")
    counts: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    seen: set[str] = set()
    for case in iter_cases(db, params.on):
        left = sorted(o for o in case.outflows if o[1] in WORK_REASONS and _in_year(o[0], params))
        if not left or case.person in seen:
            continue
        left_on = left[0][0]
        office = case.office_on(left_on)
        if not params.counts(office):
            continue
        seen.add(case.person)
        for months in HORIZONS:
            counts[(office, months, _status_at(case, left_on, months, params.on))].add(case.person)
    rows: list[tuple[Value, ...]] = []
    for office in sorted({o for o, _, _ in counts}):
        cohort = len({p for (o, m, _), ps in counts.items() if o == office and m == 3 for p in ps})
        for months in HORIZONS:
            for status in statuses:
                people = len(counts.get((office, months, status), set()))
                rows.append((office, f"+{months}m", status, people, percent(people, cohort)))
    return table(
        params,
        name="sustainable-work",
        title="Sustainable work at +3, +6 and +12 months",
        definition=definition_of(sustainable_work_report),
        columns=("office", "horizon", "status", "people", "percent"),
        rows=rows,
    )
