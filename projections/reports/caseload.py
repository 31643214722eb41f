"""Caseload on a date: the people with a right in force, broken down by office, counsellor,
right type, category, trajectory, placement and GPMI deadlines."""

from __future__ import annotations

from collections import defaultdict

from projections.caseload.deadlines import Evaluation, GpmiFacts, deadlines
from projections.reports.common import definition_of
from projections.reports.history import CaseHistory, Grant, iter_cases
from projections.reports.model import Params, ReportTable
from services.db import Database


def _gpmi_facts(case: CaseHistory, grant: Grant, on_suspended: bool) -> GpmiFacts:
    required = [g.granted_on for g in case.grants.values() if g.gpmi_required]
    signed = sorted(case.gpmis.values(), key=lambda g: g.signed_on)
    latest = signed[-1] if signed else None
    return GpmiFacts(
        right_status="suspended" if on_suspended else "granted",
        gpmi_required_since=min(required) if required else None,
        gpmi_exemption=None if grant.gpmi_required else "exempt",
        gpmi_signed_on=None if latest is None else latest.signed_on,
        gpmi_ended_on=None if latest is None else latest.ended_on,
        evaluations=tuple(
            Evaluation(evaluated_on=d, in_person=p)
            for d, p in (latest.evaluations if latest else [])
        ),
    )


def caseload_report(db: Database, params: Params) -> ReportTable:
    """Counts distinct people (person reference, else the case) whose right (leefloon or
    equivalent leefloon) is in force on the report date D: granted from a day on or before D
    and not ended or expired before D; a suspended right counts (and shows under
    suspended). Each person counts for the office competent on D. Breakdowns, each counting
    the same people: right_type and category (after revisions in force on D); counselor
    (role:user of every assignment running on D); trajectory (kind of each trajectory running
    on D, or none); placement (type of each placement running on D, or none); gpmi (signing
    term: to_sign, sign_overdue, signed, ended, exempt, not_applicable: signed within 3 months
    of the first grant requiring one); evaluation (of a running GPMI: met, due, overdue: 3
    evaluations a GPMI year, 2 in person). A person can be in several counsellor, trajectory
    or placement rows.
    """
    on = params.on
    people: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for case in iter_cases(db, on):
        grant = case.right_in_force(on)
        office = case.office_on(on)
        if grant is None or not params.counts(office):
            continue
        suspended = grant.suspended(on)
        keys = [
            ("total", "all"),
            ("right_type", grant.right_type),
            ("category", grant.category_on(on)),
            ("suspended", "yes" if suspended else "no"),
        ]
        counselors = [
            f"{s.kind}:{user}" for (_, user), s in case.counselors.items() if s.running(on)
        ]
        keys += [("counselor", c) for c in counselors] or [("counselor", "none")]
        kinds = sorted({t.kind for t in case.trajectories.values() if t.running(on)})
        keys += [("trajectory", k) for k in kinds] or [("trajectory", "none")]
        types = sorted({p.placement_type for p in case.placements.values() if p.running(on)})
        keys += [("placement", t) for t in types] or [("placement", "none")]
        status = deadlines(_gpmi_facts(case, grant, suspended), on)
        keys.append(("gpmi", status.gpmi_status.value))
        if status.evaluation_status is not None:
            keys.append(("evaluation", status.evaluation_status.value))
        for dimension, value in keys:
            people[(office, dimension, value)].add(case.person)
    order = (
        "total",
        "right_type",
        "category",
        "suspended",
        "counselor",
        "trajectory",
        "placement",
        "gpmi",
        "evaluation",
    )
    rows = sorted(
        ((office, dim, value, len(persons)) for (office, dim, value), persons in people.items()),
        key=lambda r: (r[0], order.index(r[1]), r[2]),
    )
    return ReportTable(
        name="caseload",
        title="Caseload on a date",
        definition=definition_of(caseload_report),
        on=on,
        known_on=params.known_on,
        offices=None if params.offices is None else tuple(sorted(params.offices)),
        year=params.year,
        columns=("office", "dimension", "value", "people"),
        rows=tuple(rows),
    )
