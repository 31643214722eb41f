"""One case's counting facts as of a business date, folded into timelines the reports read.

*As true on D*: a report reads only facts whose business date (``occurred_on``) is on or
before D, of events that still count (not retracted, not replaced by a correction known at
the cut-off). A backdated event recorded later therefore changes the view as on D once it
is known; a correction counts on its own business date and takes the original away.

Everything here is a pure fold over rows: no I/O besides ``iter_cases``.
"""

from __future__ import annotations

import calendar
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

import orjson

from services.db import Database


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@cache
def month_days(period: str) -> tuple[date, date]:
    """First and last day of a month ``YYYY-MM``."""
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def months_between(first: date, last: date) -> tuple[str, ...]:
    """Every month ``YYYY-MM`` from the month of ``first`` to that of ``last``."""
    return _months(first.year * 12 + first.month - 1, last.year * 12 + last.month - 1)


@lru_cache(maxsize=1 << 14)
def _months(index: int, end: int) -> tuple[str, ...]:
    return tuple(f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index, end + 1))


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day if it has no such day."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@lru_cache(maxsize=1 << 16)
def _iso_day(text: str) -> date:
    """A date from ``YYYY-MM-DD``; remembered, as the facts name the same days again and again."""
    return date.fromisoformat(text)


def _day(value: Any) -> date:
    return _iso_day(str(value))


def _maybe_day(value: Any) -> date | None:
    return None if value is None else _day(value)


def _earliest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


class Fact(NamedTuple):
    """One counting event of a case (a tuple: a million of them are made per report)."""

    seq: int
    name: str
    occurred_on: date
    office_id: str
    person_ref: str | None
    rule_version: str | None
    data: dict[str, Any]


@dataclass(slots=True)
class Suspension:
    suspended_from: date
    suspended_until: date | None
    resumed_from: date | None = None

    def covers(self, day: date) -> bool:
        resumed = None if self.resumed_from is None else self.resumed_from - timedelta(days=1)
        last = _earliest(self.suspended_until, resumed)
        return self.suspended_from <= day and (last is None or day <= last)


@dataclass(slots=True)
class Grant:
    """A granted right: its period, category changes and suspensions."""

    decision_id: str
    right_type: str
    category: str
    gpmi_required: bool
    granted_on: date
    effective_from: date
    effective_until: date | None
    ended_on: date | None = None
    revisions: list[tuple[date, str]] = field(default_factory=list)
    suspensions: list[Suspension] = field(default_factory=list)

    @property
    def last_day(self) -> date | None:
        return _earliest(self.effective_until, self.ended_on)

    def in_force(self, day: date) -> bool:
        last = self.last_day
        return self.effective_from <= day and (last is None or day <= last)

    def overlaps(self, first: date, last: date) -> bool:
        end = self.last_day
        return self.effective_from <= last and (end is None or end >= first)

    def suspended(self, day: date) -> bool:
        return bool(self.suspensions) and any(s.covers(day) for s in self.suspensions)

    def active(self, day: date) -> bool:
        """In force and paid (not suspended) on ``day``."""
        return self.in_force(day) and not self.suspended(day)

    def category_on(self, day: date) -> str:
        category = self.category
        if not self.revisions:
            return category
        for since, revised in sorted(self.revisions):
            if since <= day:
                category = revised
        return category


@dataclass(slots=True)
class Placement:
    placement_id: str
    placement_type: str
    hours_per_week: Decimal
    starts_on: date
    planned_end: date | None
    ended_on: date | None = None
    end_reason: str | None = None
    mlp_months: dict[str, date] = field(default_factory=dict)

    def running(self, day: date) -> bool:
        return self.starts_on <= day and (self.ended_on is None or day <= self.ended_on)

    def overlaps(self, first: date, last: date) -> bool:
        return self.starts_on <= last and (self.ended_on is None or self.ended_on >= first)


@dataclass(slots=True)
class Gpmi:
    gpmi_id: str
    signed_on: date
    subsidy_code: str
    extended_until: date | None = None
    ended_on: date | None = None
    evaluations: list[tuple[date, bool]] = field(default_factory=list)


@dataclass(slots=True)
class Step:
    """An activation step (placement, training, language course, group project) or a
    trajectory or aftercare: something with a start, maybe an end and an outcome."""

    kind: str
    starts_on: date
    ended_on: date | None = None
    outcome: str | None = None

    def overlaps(self, first: date, last: date) -> bool:
        return self.starts_on <= last and (self.ended_on is None or self.ended_on >= first)

    def running(self, day: date) -> bool:
        return self.overlaps(day, day)


@dataclass(slots=True)
class Claim:
    claim_id: str
    scheme: str
    period: str
    amount_cents: int
    claimed_on: date
    rule_version: str | None
    supersedes: str | None = None
    superseded_by: str | None = None
    status: str = "submitted"
    approved_cents: int | None = None
    rejection_code: str | None = None


@dataclass(slots=True)
class CaseHistory:
    """The timelines of one case, folded from its counting facts."""

    case_id: str
    person: str = ""
    origin_office: str = ""
    transfers: list[tuple[date, str]] = field(default_factory=list)
    grants: dict[str, Grant] = field(default_factory=dict)
    paid: list[tuple[str, str, int]] = field(default_factory=list)
    counselors: dict[tuple[str, str], Step] = field(default_factory=dict)
    trajectories: dict[str, Step] = field(default_factory=dict)
    activations: dict[str, Step] = field(default_factory=dict)
    placements: dict[str, Placement] = field(default_factory=dict)
    gpmis: dict[str, Gpmi] = field(default_factory=dict)
    aftercare: dict[str, Step] = field(default_factory=dict)
    outflows: list[tuple[date, str]] = field(default_factory=list)
    employment_checks: list[tuple[date, bool]] = field(default_factory=list)
    claims: dict[str, Claim] = field(default_factory=dict)
    lap_engagements: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False

    def office_on(self, day: date) -> str:
        """The office competent for the case on ``day`` (transfers by their effective date)."""
        office = self.origin_office
        if not self.transfers:
            return office
        for effective_on, to_office in sorted(self.transfers):
            if effective_on <= day:
                office = to_office
        return office

    def right_in_force(self, day: date) -> Grant | None:
        for grant in self.grants.values():
            if grant.in_force(day):
                return grant
        return None

    def right_active(self, day: date) -> Grant | None:
        for grant in self.grants.values():
            if grant.active(day):
                return grant
        return None

    def right_during(self, first: date, last: date) -> bool:
        return any(g.overlaps(first, last) for g in self.grants.values())


def fold(case_id: str, facts: Iterable[Fact]) -> CaseHistory:
    """The case's timelines from its counting facts in stream order."""
    case = CaseHistory(case_id=case_id)
    for fact in facts:
        if not case.origin_office:
            case.origin_office = fact.office_id
        if not case.person and fact.person_ref:
            case.person = fact.person_ref
        _FOLDS[fact.name](case, fact)
    if not case.person:
        case.person = f"case:{case_id}"
    return case


def _granted(case: CaseHistory, f: Fact) -> None:
    d = f.data
    case.grants[d["decision_id"]] = Grant(
        decision_id=d["decision_id"],
        right_type=d["right_type"],
        category=d["category"],
        gpmi_required=bool(d["gpmi_required"]),
        granted_on=f.occurred_on,
        effective_from=_day(d["effective_from"]),
        effective_until=_maybe_day(d.get("effective_until")),
    )


def _grant(case: CaseHistory, f: Fact) -> Grant | None:
    """The grant an event names; a grant of a later business date is not known yet."""
    return case.grants.get(f.data["grant_decision_id"])


def _revised(case: CaseHistory, f: Fact) -> None:
    if (grant := _grant(case, f)) is not None:
        grant.revisions.append((_day(f.data["effective_from"]), f.data["category"]))


def _suspended(case: CaseHistory, f: Fact) -> None:
    if (grant := _grant(case, f)) is not None:
        grant.suspensions.append(
            Suspension(_day(f.data["suspended_from"]), _maybe_day(f.data.get("suspended_until")))
        )


def _resumed(case: CaseHistory, f: Fact) -> None:
    grant = _grant(case, f)
    open_ = [s for s in grant.suspensions if s.resumed_from is None] if grant else []
    if open_:
        open_[-1].resumed_from = _day(f.data["resumed_from"])


def _ended(case: CaseHistory, f: Fact) -> None:
    if (grant := _grant(case, f)) is not None:
        grant.ended_on = _day(f.data["end_date"])


def _paid(case: CaseHistory, f: Fact) -> None:
    d = f.data
    case.paid.append((d["month"], d["grant_decision_id"], int(d["amount_cents"])))


def _assigned(case: CaseHistory, f: Fact) -> None:
    d = f.data
    key = (d["role"], d["counselor_user_id"])
    case.counselors[key] = Step(kind=d["role"], starts_on=_day(d["assigned_from"]))


def _unassigned(case: CaseHistory, f: Fact) -> None:
    d = f.data
    step = case.counselors.get((d["role"], d["counselor_user_id"]))
    if step is not None:
        step.ended_on = _day(d["assigned_until"])


def _start(steps: dict[str, Step], key: str, kind: str, starts_on: date) -> None:
    steps[key] = Step(kind=kind, starts_on=starts_on)


def _finish(steps: dict[str, Step], key: str, on: date, outcome: str | None) -> None:
    step = steps.get(key)
    if step is not None:
        step.ended_on, step.outcome = on, outcome


def _trajectory_started(case: CaseHistory, f: Fact) -> None:
    _start(case.trajectories, f.data["trajectory_id"], f.data["kind"], f.occurred_on)


def _trajectory_ended(case: CaseHistory, f: Fact) -> None:
    _finish(case.trajectories, f.data["trajectory_id"], f.occurred_on, f.data["reason"])


def _gpmi_signed(case: CaseHistory, f: Fact) -> None:
    d = f.data
    case.gpmis[d["gpmi_id"]] = Gpmi(d["gpmi_id"], f.occurred_on, d["subsidy_code"])


def _gpmi_extended(case: CaseHistory, f: Fact) -> None:
    if (gpmi := case.gpmis.get(f.data["gpmi_id"])) is not None:
        gpmi.extended_until = _day(f.data["extended_until"])


def _gpmi_evaluated(case: CaseHistory, f: Fact) -> None:
    if (gpmi := case.gpmis.get(f.data["gpmi_id"])) is not None:
        gpmi.evaluations.append((f.occurred_on, bool(f.data["in_person"])))


def _gpmi_ended(case: CaseHistory, f: Fact) -> None:
    if (gpmi := case.gpmis.get(f.data["gpmi_id"])) is not None:
        gpmi.ended_on = f.occurred_on


def _group_joined(case: CaseHistory, f: Fact) -> None:
    _start(case.activations, f"group:{f.data['project']}", "group_project", f.occurred_on)


def _group_left(case: CaseHistory, f: Fact) -> None:
    _finish(case.activations, f"group:{f.data['project']}", f.occurred_on, f.data["reason"])


def _course_enrolled(case: CaseHistory, f: Fact) -> None:
    _start(case.activations, f.data["course_id"], "language_course", _day(f.data["starts_on"]))


def _course_completed(case: CaseHistory, f: Fact) -> None:
    _finish(case.activations, f.data["course_id"], f.occurred_on, "completed")


def _course_abandoned(case: CaseHistory, f: Fact) -> None:
    _finish(case.activations, f.data["course_id"], f.occurred_on, f.data["reason"])


def _training_started(case: CaseHistory, f: Fact) -> None:
    _start(case.activations, f.data["training_id"], "training", _day(f.data["starts_on"]))


def _training_ended(case: CaseHistory, f: Fact) -> None:
    _finish(case.activations, f.data["training_id"], f.occurred_on, f.data["outcome"])


def _placement_started(case: CaseHistory, f: Fact) -> None:
    d = f.data
    case.placements[d["placement_id"]] = Placement(
        placement_id=d["placement_id"],
        placement_type=d["placement_type"],
        hours_per_week=Decimal(str(d["hours_per_week"])),
        starts_on=_day(d["starts_on"]),
        planned_end=_maybe_day(d.get("planned_end")),
    )


def _placement_extended(case: CaseHistory, f: Fact) -> None:
    if (p := case.placements.get(f.data["placement_id"])) is not None:
        p.planned_end = _day(f.data["planned_end"])


def _placement_ended(case: CaseHistory, f: Fact) -> None:
    if (p := case.placements.get(f.data["placement_id"])) is not None:
        p.ended_on, p.end_reason = f.occurred_on, f.data["reason"]


def _mlp_registered(case: CaseHistory, f: Fact) -> None:
    if (p := case.placements.get(f.data["placement_id"])) is not None:
        p.mlp_months[f.data["month"]] = _day(f.data["registered_on"])


def _aftercare_started(case: CaseHistory, f: Fact) -> None:
    _start(case.aftercare, f.data["aftercare_id"], "aftercare", f.occurred_on)


def _aftercare_ended(case: CaseHistory, f: Fact) -> None:
    _finish(case.aftercare, f.data["aftercare_id"], f.occurred_on, f.data["outcome"])


def _outflow(case: CaseHistory, f: Fact) -> None:
    case.outflows.append((_day(f.data["outflow_on"]), f.data["reason"]))


def _employment(case: CaseHistory, f: Fact) -> None:
    case.employment_checks.append((f.occurred_on, bool(f.data["employed"])))


def _transferred(case: CaseHistory, f: Fact) -> None:
    case.transfers.append((_day(f.data["effective_on"]), f.data["to_office_id"]))


def _closed(case: CaseHistory, _f: Fact) -> None:
    case.closed = True


def _reopened(case: CaseHistory, _f: Fact) -> None:
    case.closed = False


def _claim(case: CaseHistory, f: Fact, *, supersedes: str | None = None) -> None:
    d = f.data
    case.claims[d["claim_id"]] = Claim(
        claim_id=d["claim_id"],
        scheme=d["scheme"],
        period=d["period"],
        amount_cents=int(d["amount_cents"]),
        claimed_on=f.occurred_on,
        rule_version=f.rule_version,
        supersedes=supersedes,
        status="submitted" if supersedes is None else "corrected",
    )


def _claim_submitted(case: CaseHistory, f: Fact) -> None:
    _claim(case, f)


def _claim_corrected(case: CaseHistory, f: Fact) -> None:
    old = case.claims.get(f.data["supersedes"])
    if old is not None:
        old.superseded_by = f.data["claim_id"]
    _claim(case, f, supersedes=f.data["supersedes"])


def _claim_approved(case: CaseHistory, f: Fact) -> None:
    if (c := case.claims.get(f.data["claim_id"])) is not None:
        c.status, c.approved_cents, c.rejection_code = "approved", int(f.data["amount_cents"]), None


def _claim_rejected(case: CaseHistory, f: Fact) -> None:
    if (c := case.claims.get(f.data["claim_id"])) is not None:
        c.status, c.approved_cents, c.rejection_code = "rejected", None, f.data["reason_code"]


def _lap(case: CaseHistory, f: Fact) -> None:
    case.lap_engagements.append({**f.data, "office_id": f.office_id})


def _nothing(_case: CaseHistory, _f: Fact) -> None:
    """A retraction's effect is already in ``voided_by``."""


_FOLDS = {
    "LeefloonGranted": _granted,
    "LeefloonRevised": _revised,
    "LeefloonSuspended": _suspended,
    "LeefloonResumed": _resumed,
    "LeefloonEnded": _ended,
    "LeefloonPaid": _paid,
    "CounselorAssigned": _assigned,
    "CounselorUnassigned": _unassigned,
    "TrajectoryStarted": _trajectory_started,
    "TrajectoryEnded": _trajectory_ended,
    "GpmiSigned": _gpmi_signed,
    "GpmiExtended": _gpmi_extended,
    "GpmiEvaluated": _gpmi_evaluated,
    "GpmiEnded": _gpmi_ended,
    "GroupProjectJoined": _group_joined,
    "GroupProjectLeft": _group_left,
    "LanguageCourseEnrolled": _course_enrolled,
    "LanguageCourseCompleted": _course_completed,
    "LanguageCourseAbandoned": _course_abandoned,
    "TrainingStarted": _training_started,
    "TrainingEnded": _training_ended,
    "PlacementStarted": _placement_started,
    "PlacementExtended": _placement_extended,
    "PlacementEnded": _placement_ended,
    "MlpMonthRegistered": _mlp_registered,
    "AftercareStarted": _aftercare_started,
    "AftercareEnded": _aftercare_ended,
    "OutflowRecorded": _outflow,
    "EmploymentVerified": _employment,
    "CaseTransferred": _transferred,
    "CaseClosed": _closed,
    "CaseReopened": _reopened,
    "EventRetracted": _nothing,
    "SubsidyClaimSubmitted": _claim_submitted,
    "SubsidyClaimCorrected": _claim_corrected,
    "SubsidyClaimApproved": _claim_approved,
    "SubsidyClaimRejected": _claim_rejected,
    "LapEngagementRegistered": _lap,
}


Share = tuple[int, int]
"""Part ``k`` of ``n`` of the people: the cases of the people whose reference hashes to ``k``
modulo ``n`` (see ``share_of``). A person's cases are all in one part."""


def share_of(person: str, parts: int) -> int:
    """The part of ``parts`` a person's cases go to; the same in every process."""
    return zlib.crc32(person.encode()) % parts


_ALL_FACTS = (
    "SELECT case_id, seq, name, occurred_on, office_id, person_ref, rule_version, data"
    " FROM rf_events WHERE voided_by IS NULL AND occurred_on <= ? ORDER BY case_id, seq"
)
# Only the cases whose person is in one part; the person of a case as ``fold`` finds it: its
# first reference (in stream order, of the facts that count), else the case itself.
_SHARE_FACTS = """
SELECT case_id, seq, name, occurred_on, office_id, person_ref, rule_version, data
FROM rf_events WHERE voided_by IS NULL AND occurred_on <= ? AND case_id IN (
  SELECT case_id FROM (SELECT DISTINCT case_id FROM rf_events) AS c
  WHERE report_share(coalesce(
    (SELECT person_ref FROM rf_events AS p
      WHERE p.case_id = c.case_id AND p.voided_by IS NULL AND p.occurred_on <= ?
        AND p.person_ref <> '' ORDER BY p.seq LIMIT 1),
    'case:' || c.case_id), ?) = ?)
ORDER BY case_id, seq"""


def iter_cases(db: Database, on: date, share: Share | None = None) -> Iterator[CaseHistory]:
    """Every case's history as true on business date ``on``, one case at a time, in the order
    of the case ids; with ``share``, only the cases of that part of the people."""
    from projections.reports.facts import CASE_INDEX

    db.execute(CASE_INDEX)
    if share is None:
        rows = db.execute(_ALL_FACTS, (on.isoformat(),))
    else:
        db.conn.create_function("report_share", 2, share_of, deterministic=True)
        rows = db.execute(_SHARE_FACTS, (on.isoformat(), on.isoformat(), share[1], share[0]))
    loads, day = orjson.loads, _iso_day
    for case_id, group in groupby(rows, key=itemgetter(0)):
        yield fold(
            str(case_id),
            [
                Fact(int(seq), str(name), day(occurred), str(office), ref, rule, loads(data))
                for _, seq, name, occurred, office, ref, rule, data in group
            ],
        )
