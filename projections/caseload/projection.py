"""The ``caseload`` read model: each case's office, counsellors, right, trajectory and GPMI.

Handlers copy facts into rows; deadlines are computed by the queries for a given date.
Every event of the catalogue moves the case's last activity date.
"""

from __future__ import annotations

from events.case import CaseTransferred
from events.codec import RecordedEvent
from events.gpmi import GpmiEnded, GpmiEvaluated, GpmiExtended, GpmiSigned
from events.guidance import (
    CounselorAssigned,
    CounselorUnassigned,
    TrajectoryEnded,
    TrajectoryStarted,
)
from events.outflow import OutflowRecorded
from events.registry import registry
from events.rights import (
    LeefloonEnded,
    LeefloonGranted,
    LeefloonRefused,
    LeefloonResumed,
    LeefloonRevised,
    LeefloonSuspended,
)
from projections.caseload.tables import TABLES
from projections.journal import CaseProjection
from projections.projection import Params, Tx, merge_later, update_one

caseload = CaseProjection(name="caseload", version=1, tables=TABLES)

_TOUCH = """
INSERT INTO caseload_cases (case_id, office_id, person_ref, opened_on, closed, right_status,
    last_activity_on, last_event, last_seq)
VALUES (?, ?, ?, ?, FALSE, 'none', ?, ?, ?)
ON CONFLICT (case_id) DO UPDATE SET
    office_id = excluded.office_id,
    person_ref = COALESCE(caseload_cases.person_ref, excluded.person_ref),
    last_activity_on = CASE WHEN excluded.last_activity_on > caseload_cases.last_activity_on
        THEN excluded.last_activity_on ELSE caseload_cases.last_activity_on END,
    last_event = excluded.last_event,
    last_seq = excluded.last_seq
"""


def touch(tx: Tx, rec: RecordedEvent, *, office_id: str | None = None) -> None:
    """The case's row, created by its first event; the event's date is its latest activity."""
    meta = rec.meta
    day = meta.occurred_on.isoformat()
    person = None if meta.person_ref is None else str(meta.person_ref)
    case_id = str(meta.case_id)
    row = (case_id, office_id or meta.office_id, person, day, day, rec.name, rec.seq)
    merge_later(tx, _TOUCH, case_id, row, _touched_again)


def _touched_again(pending: Params, new: Params) -> Params:
    """One ``_TOUCH`` row with the effect of ``pending`` then ``new`` (ISO dates sort).

    The first row opens the case; the office, event and sequence are the newest; the person
    is the first known; the last activity is the latest date.
    """
    case_id, _, person, opened_on, last_on, _, _ = pending
    _, office, new_person, _, new_on, name, seq = new
    person = new_person if person is None else person
    return (case_id, office, person, opened_on, max(last_on, new_on), name, seq)


SPECIAL = frozenset(
    {
        *("LeefloonGranted", "LeefloonRefused", "LeefloonRevised"),
        *("LeefloonSuspended", "LeefloonResumed", "LeefloonEnded"),
        *("CounselorAssigned", "CounselorUnassigned", "TrajectoryStarted", "TrajectoryEnded"),
        *("GpmiSigned", "GpmiExtended", "GpmiEvaluated", "GpmiEnded"),
        *("CaseTransferred", "CaseClosed", "CaseReopened", "OutflowRecorded"),
        "LapEngagementRegistered",
    }
)

for _name in registry().names():
    if _name not in SPECIAL:
        caseload.on(_name)(touch)


@caseload.on("LapEngagementRegistered")
def office_ledger(tx: Tx, rec: RecordedEvent) -> None:
    """An office's LAP engagement sits on its ledger case, which is nobody's caseload."""


# --- the case file ---------------------------------------------------------------------------


@caseload.on("CaseTransferred")
def transferred(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, CaseTransferred)
    touch(tx, rec, office_id=rec.event.to_office_id)


@caseload.on("CaseClosed")
def closed(tx: Tx, rec: RecordedEvent) -> None:
    touch(tx, rec)
    tx.execute(
        "UPDATE caseload_cases SET closed = TRUE, closed_on = ? WHERE case_id = ?",
        (rec.meta.occurred_on.isoformat(), str(rec.meta.case_id)),
    )


@caseload.on("CaseReopened")
def reopened(tx: Tx, rec: RecordedEvent) -> None:
    touch(tx, rec)
    tx.execute(
        "UPDATE caseload_cases SET closed = FALSE, closed_on = NULL WHERE case_id = ?",
        (str(rec.meta.case_id),),
    )


@caseload.on("OutflowRecorded")
def outflow(tx: Tx, rec: RecordedEvent) -> None:
    """Outflow is shown, not closing: aftercare and employment checks still follow the case."""
    assert isinstance(rec.event, OutflowRecorded)
    touch(tx, rec)
    tx.execute(
        "UPDATE caseload_cases SET outflow_on = ?, outflow_reason = ? WHERE case_id = ?",
        (rec.event.outflow_on.isoformat(), rec.event.reason.value, str(rec.meta.case_id)),
    )


# --- the right -------------------------------------------------------------------------------


@caseload.on("LeefloonGranted")
def granted(tx: Tx, rec: RecordedEvent) -> None:
    """A grant becomes the case's current right; the first one needing a GPMI starts its term."""
    assert isinstance(rec.event, LeefloonGranted)
    e = rec.event
    touch(tx, rec)
    exemption = None if e.gpmi_exemption is None else e.gpmi_exemption.value
    tx.execute(
        "INSERT INTO caseload_grants (case_id, decision_id, right_type, category, status,"
        " decided_on, effective_from, effective_until, gpmi_required, gpmi_exemption, seq)"
        " VALUES (?, ?, ?, ?, 'granted', ?, ?, ?, ?, ?, ?)",
        (
            str(rec.meta.case_id),
            str(e.decision_id),
            e.right_type.value,
            e.category.value,
            e.bcsd_session_on.isoformat(),
            e.effective_from.isoformat(),
            None if e.effective_until is None else e.effective_until.isoformat(),
            e.gpmi_required,
            exemption,
            rec.seq,
        ),
    )
    tx.execute(
        "UPDATE caseload_cases SET grant_decision_id = ?, right_type = ?, category = ?,"
        " right_status = 'granted', gpmi_exemption = ?,"
        " gpmi_required_since = COALESCE(gpmi_required_since, ?) WHERE case_id = ?",
        (
            str(e.decision_id),
            e.right_type.value,
            e.category.value,
            exemption,
            e.bcsd_session_on.isoformat() if e.gpmi_required else None,
            str(rec.meta.case_id),
        ),
    )


@caseload.on("LeefloonRefused")
def refused(tx: Tx, rec: RecordedEvent) -> None:
    """A refusal shows only on a case that never had a right."""
    assert isinstance(rec.event, LeefloonRefused)
    touch(tx, rec)
    tx.execute(
        "UPDATE caseload_cases SET right_status = 'refused', right_type = ?"
        " WHERE case_id = ? AND right_status IN ('none', 'refused')",
        (rec.event.right_type.value, str(rec.meta.case_id)),
    )


def _change_grant(
    tx: Tx,
    rec: RecordedEvent,
    grant: object,
    *,
    status: str | None = None,
    category: str | None = None,
    ended_on: str | None = None,
) -> None:
    """Change a grant's row, and the case's current-right columns if it is the current one."""
    case_id = str(rec.meta.case_id)
    update_one(
        tx,
        "UPDATE caseload_grants SET status = COALESCE(?, status),"
        " category = COALESCE(?, category), ended_on = COALESCE(?, ended_on)"
        " WHERE case_id = ? AND decision_id = ?",
        (status, category, ended_on, case_id, str(grant)),
        f"{rec.name} names grant {grant}, which case {case_id} does not have",
    )
    tx.execute(
        "UPDATE caseload_cases SET right_status = COALESCE(?, right_status),"
        " category = COALESCE(?, category) WHERE case_id = ? AND grant_decision_id = ?",
        (status, category, case_id, str(grant)),
    )


@caseload.on("LeefloonRevised")
def revised(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, LeefloonRevised)
    touch(tx, rec)
    _change_grant(tx, rec, rec.event.grant_decision_id, category=rec.event.category.value)


@caseload.on("LeefloonSuspended")
def suspended(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, LeefloonSuspended)
    touch(tx, rec)
    _change_grant(tx, rec, rec.event.grant_decision_id, status="suspended")


@caseload.on("LeefloonResumed")
def resumed(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, LeefloonResumed)
    touch(tx, rec)
    _change_grant(tx, rec, rec.event.grant_decision_id, status="granted")


@caseload.on("LeefloonEnded")
def right_ended(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, LeefloonEnded)
    touch(tx, rec)
    _change_grant(
        tx,
        rec,
        rec.event.grant_decision_id,
        status="ended",
        ended_on=rec.event.end_date.isoformat(),
    )


# --- guidance --------------------------------------------------------------------------------


@caseload.on("CounselorAssigned")
def assigned(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, CounselorAssigned)
    e = rec.event
    touch(tx, rec)
    tx.execute(
        "INSERT INTO caseload_counsellors (case_id, role, counselor_user_id, assigned_from)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (case_id, role, counselor_user_id) DO UPDATE SET"
        " assigned_from = excluded.assigned_from, assigned_until = NULL",
        (str(rec.meta.case_id), e.role.value, e.counselor_user_id, e.assigned_from.isoformat()),
    )


@caseload.on("CounselorUnassigned")
def unassigned(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, CounselorUnassigned)
    e = rec.event
    touch(tx, rec)
    update_one(
        tx,
        "UPDATE caseload_counsellors SET assigned_until = ?"
        " WHERE case_id = ? AND role = ? AND counselor_user_id = ? AND assigned_until IS NULL",
        (e.assigned_until.isoformat(), str(rec.meta.case_id), e.role.value, e.counselor_user_id),
        f"{e.counselor_user_id} is not assigned as {e.role.value} to case {rec.meta.case_id}",
    )


@caseload.on("TrajectoryStarted")
def trajectory_started(tx: Tx, rec: RecordedEvent) -> None:
    """The newest trajectory is the case's current one."""
    assert isinstance(rec.event, TrajectoryStarted)
    e = rec.event
    touch(tx, rec)
    tx.execute(
        "INSERT INTO caseload_trajectories (case_id, trajectory_id, kind, started_on, seq)"
        " VALUES (?, ?, ?, ?, ?)",
        (
            str(rec.meta.case_id),
            str(e.trajectory_id),
            e.kind.value,
            rec.meta.occurred_on.isoformat(),
            rec.seq,
        ),
    )
    tx.execute(
        "UPDATE caseload_cases SET trajectory_id = ?, trajectory_kind = ? WHERE case_id = ?",
        (str(e.trajectory_id), e.kind.value, str(rec.meta.case_id)),
    )


@caseload.on("TrajectoryEnded")
def trajectory_ended(tx: Tx, rec: RecordedEvent) -> None:
    """The newest trajectory still running (if any) becomes the current one."""
    assert isinstance(rec.event, TrajectoryEnded)
    e = rec.event
    case_id = str(rec.meta.case_id)
    touch(tx, rec)
    update_one(
        tx,
        "UPDATE caseload_trajectories SET ended_on = ?, end_reason = ?"
        " WHERE case_id = ? AND trajectory_id = ? AND ended_on IS NULL",
        (rec.meta.occurred_on.isoformat(), e.reason.value, case_id, str(e.trajectory_id)),
        f"trajectory {e.trajectory_id} is not running in case {case_id}",
    )
    running = tx.execute(
        "SELECT trajectory_id, kind FROM caseload_trajectories"
        " WHERE case_id = ? AND ended_on IS NULL ORDER BY seq DESC LIMIT 1",
        (case_id,),
    ).fetchone()
    tx.execute(
        "UPDATE caseload_cases SET trajectory_id = ?, trajectory_kind = ? WHERE case_id = ?",
        (*(running or (None, None)), case_id),
    )


# --- the GPMI --------------------------------------------------------------------------------


@caseload.on("GpmiSigned")
def gpmi_signed(tx: Tx, rec: RecordedEvent) -> None:
    """The newest GPMI is the case's current one."""
    assert isinstance(rec.event, GpmiSigned)
    e = rec.event
    touch(tx, rec)
    tx.execute(
        "INSERT INTO caseload_gpmis (case_id, gpmi_id, signed_on, subsidy_code, seq)"
        " VALUES (?, ?, ?, ?, ?)",
        (
            str(rec.meta.case_id),
            str(e.gpmi_id),
            rec.meta.occurred_on.isoformat(),
            e.subsidy_code.value,
            rec.seq,
        ),
    )
    tx.execute(
        "UPDATE caseload_cases SET gpmi_id = ? WHERE case_id = ?",
        (str(e.gpmi_id), str(rec.meta.case_id)),
    )


def _change_gpmi(
    tx: Tx, rec: RecordedEvent, gpmi: object, assignments: str, *values: object
) -> None:
    case_id = str(rec.meta.case_id)
    update_one(
        tx,
        f"UPDATE caseload_gpmis SET {assignments} WHERE case_id = ? AND gpmi_id = ?",  # noqa: S608
        (*values, case_id, str(gpmi)),
        f"{rec.name} names GPMI {gpmi}, which case {case_id} does not have",
    )


@caseload.on("GpmiExtended")
def gpmi_extended(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, GpmiExtended)
    touch(tx, rec)
    _change_gpmi(
        tx, rec, rec.event.gpmi_id, "extended_until = ?", rec.event.extended_until.isoformat()
    )


@caseload.on("GpmiEnded")
def gpmi_ended(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, GpmiEnded)
    touch(tx, rec)
    _change_gpmi(
        tx,
        rec,
        rec.event.gpmi_id,
        "ended_on = ?, end_reason = ?",
        rec.meta.occurred_on.isoformat(),
        rec.event.reason.value,
    )


@caseload.on("GpmiEvaluated")
def gpmi_evaluated(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, GpmiEvaluated)
    e = rec.event
    case_id = str(rec.meta.case_id)
    touch(tx, rec)
    if (
        tx.execute(
            "SELECT 1 FROM caseload_gpmis WHERE case_id = ? AND gpmi_id = ?",
            (case_id, str(e.gpmi_id)),
        ).fetchone()
        is None
    ):
        raise LookupError(f"GpmiEvaluated names GPMI {e.gpmi_id}, which case {case_id} lacks")
    tx.execute(
        "INSERT INTO caseload_evaluations (case_id, event_id, gpmi_id, evaluated_on, in_person)"
        " VALUES (?, ?, ?, ?, ?)",
        (
            case_id,
            str(rec.meta.event_id),
            str(e.gpmi_id),
            rec.meta.occurred_on.isoformat(),
            e.in_person,
        ),
    )
