"""Reports on taking part in work: activation rate in a year, LAP progress per call."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from projections.reports.common import definition_of, percent, table
from projections.reports.history import CaseHistory, iter_cases
from projections.reports.model import Params, ReportTable, Value
from projections.rules import NoRuleError
from services.db import Database

PAID_PLACEMENTS = ("twe_art60", "art61", "regular", "maatwerk")


def _activated(case: CaseHistory, first: date, last: date) -> bool:
    return any(p.overlaps(first, last) for p in case.placements.values()) or any(
        a.overlaps(first, last) for a in case.activations.values()
    )


def _working(case: CaseHistory, first: date, last: date) -> bool:
    placed = any(
        p.placement_type in PAID_PLACEMENTS and p.overlaps(first, last)
        for p in case.placements.values()
    )
    return placed or any(first <= d <= last and ok for d, ok in case.employment_checks)


def activation_report(db: Database, params: Params) -> ReportTable:
    """Denominator (people_with_right): distinct people (person reference, else the case) with a
    right in force on at least one day of the reporting year up to the report date.
    Numerator (activated): of those, people with at least one activation step running on a day
    of that period: a placement of any type, a training, a language course or a group project.
    Sub-ratio (working): of the activated, people with a paid-work placement (TWE/art. 60,
    art. 61, regular, maatwerk) running in the period, or an employment check that found them
    employed in the period. Each person counts for the office competent on the last day of
    the period.
    """
    first = date(params.year, 1, 1)
    last = min(date(params.year, 12, 31), params.on)
    groups: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for case in iter_cases(db, params.on):
        if last < first or not case.right_during(first, last):
            continue
        office = case.office_on(last)
        if not params.counts(office):
            continue
        groups[office]["right"].add(case.person)
        if _activated(case, first, last):
            groups[office]["activated"].add(case.person)
            if _working(case, first, last):
                groups[office]["working"].add(case.person)
    rows: list[tuple[Value, ...]] = []
    for office in sorted(groups):
        right, active, working = (len(groups[office][k]) for k in ("right", "activated", "working"))
        rows.append(
            (office, right, active, percent(active, right), working, percent(working, active))
        )
    return table(
        params,
        name="activation-rate",
        title="Activation rate",
        definition=definition_of(activation_report),
        columns=(
            "office",
            "people_with_right",
            "activated",
            "activated_percent",
            "working",
            "working_percent_of_activated",
        ),
        rows=rows,
    )


def _started_work(
    case: CaseHistory, first: date, last: date, types: set[str], reasons: set[str]
) -> date | None:
    starts = [
        p.starts_on
        for p in case.placements.values()
        if p.placement_type in types
        and first <= p.starts_on <= last
        and case.right_in_force(p.starts_on) is not None
    ]
    starts += [
        day
        for day, reason in case.outflows
        if reason in reasons
        and first <= day <= last
        and case.right_in_force(day - timedelta(days=1)) is not None
    ]
    return min(starts) if starts else None


def lap_report(db: Database, params: Params) -> ReportTable:
    """For the LAP call whose period holds the report date (rule lap, one version per call):
    counted = distinct people who started paid work in the call period, up to the report date,
    while (equivalent) leefloon-entitled: a placement of a paid-work type of the call's rule
    starting on a day with a right in force, or an outflow for a paid-work reason of the rule
    (OutflowRecorded.outflow_on) with a right in force the day before. A person counts once
    per call, for the office competent on the day they started. baseline and engagement come
    from the office's latest LapEngagementRegistered of the call as known; target = baseline +
    engagement; percent = counted / target. How "at work" is counted was not verified [U].
    """
    try:
        call = params.rules.at("lap", params.on)
    except NoRuleError as missing:
        raise LookupError(f"no LAP call holds {params.on.isoformat()}: {missing}") from None
    first, last = call.valid_from, min(call.valid_to or params.on, params.on)
    types = set(call.param("paid_work_placement_types"))
    reasons = set(call.param("paid_work_outflow_reasons"))
    counted: dict[str, set[str]] = defaultdict(set)
    engagements: dict[str, tuple[int, int]] = {}
    seen: set[str] = set()
    for case in iter_cases(db, params.on):
        for engagement in case.lap_engagements:
            if date.fromisoformat(engagement["call_from"]) == call.valid_from:
                engagements[engagement["office_id"]] = (
                    int(engagement["baseline_people"]),
                    int(engagement["extra_people"]),
                )
        started = _started_work(case, first, last, types, reasons)
        if started is None or case.person in seen:
            continue
        office = case.office_on(started)
        if params.counts(office):
            seen.add(case.person)
            counted[office].add(case.person)
    rows: list[tuple[Value, ...]] = []
    for office in sorted({*counted, *(o for o in engagements if params.counts(o))}):
        baseline, extra = engagements.get(office, (0, 0))
        people = len(counted[office])
        target = baseline + extra
        rows += [
            (office, call.version, "counted", people, percent(people, target)),
            (office, call.version, "baseline", baseline, None),
            (office, call.version, "engagement", extra, None),
            (office, call.version, "target", target, None),
        ]
    return table(
        params,
        name="lap-progress",
        title=f"LAP progress ({call.version}, {first.isoformat()} to {call.valid_to})",
        definition=definition_of(lap_report),
        columns=("office", "call", "measure", "people", "percent_of_target"),
        rows=rows,
        rule_versions=(call.version,),
    )
