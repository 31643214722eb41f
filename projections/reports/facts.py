"""``report_facts``: the events the reports count, each with its business date and whether a
later retraction or correction took it back.

Reports are computed from these rows in a throw-away store (see ``replay``), so a new report
needs a new query, never a migration. Handlers only copy facts: an event's public payload, its
business date (``occurred_on``), recording time, office, person and rule version. A retraction
or correction marks the event it replaces (``voided_by``); retracting that retraction or
correction makes the original count again. Reports read only rows that count.
"""

from __future__ import annotations

from typing import Final

from events.codec import RecordedEvent
from projections.journal import voided_by
from projections.projection import Projection, Table, Tx

FACT_EVENTS: Final = (
    # rights
    "LeefloonGranted",
    "LeefloonRevised",
    "LeefloonSuspended",
    "LeefloonResumed",
    "LeefloonEnded",
    "LeefloonPaid",
    # guidance
    "CounselorAssigned",
    "CounselorUnassigned",
    "TrajectoryStarted",
    "TrajectoryEnded",
    # GPMI
    "GpmiSigned",
    "GpmiExtended",
    "GpmiEvaluated",
    "GpmiEnded",
    # activation steps
    "GroupProjectJoined",
    "GroupProjectLeft",
    "LanguageCourseEnrolled",
    "LanguageCourseCompleted",
    "LanguageCourseAbandoned",
    "TrainingStarted",
    "TrainingEnded",
    # placements and aftercare
    "PlacementStarted",
    "PlacementExtended",
    "PlacementEnded",
    "MlpMonthRegistered",
    "AftercareStarted",
    "AftercareEnded",
    # outflow
    "OutflowRecorded",
    "EmploymentVerified",
    # case file
    "CaseTransferred",
    "CaseClosed",
    "CaseReopened",
    "EventRetracted",
    # subsidies
    "SubsidyClaimSubmitted",
    "SubsidyClaimCorrected",
    "SubsidyClaimApproved",
    "SubsidyClaimRejected",
    "LapEngagementRegistered",
)

FACTS_TABLE: Final = Table(
    name="rf_events",
    ddl=(
        "CREATE TABLE IF NOT EXISTS rf_events ("
        " seq BIGINT PRIMARY KEY,"
        " case_id TEXT NOT NULL,"
        " event_id TEXT NOT NULL UNIQUE,"
        " name TEXT NOT NULL,"
        " occurred_on TEXT NOT NULL,"
        " recorded_at TEXT NOT NULL,"
        " office_id TEXT NOT NULL,"
        " person_ref TEXT,"
        " rule_version TEXT,"
        " data TEXT NOT NULL,"
        " voids TEXT,"
        " voided_by TEXT)",
    ),
)

CASE_INDEX: Final = "CREATE INDEX IF NOT EXISTS rf_events_case ON rf_events (case_id, seq)"
"""Built once after the replay (``history.iter_cases``): cheaper than keeping it up per insert."""

report_facts = Projection(name="report_facts", version=1, tables=(FACTS_TABLE,))


def _record(tx: Tx, rec: RecordedEvent) -> None:
    meta = rec.meta
    # Personal fields are left out (they are sealed and never read by reports).
    public = rec.event.model_dump_json(exclude=set(rec.event.personal_fields()))
    target = voided_by(rec)
    case_id = str(meta.case_id)
    tx.execute(
        "INSERT INTO rf_events (seq, case_id, event_id, name, occurred_on, recorded_at,"
        " office_id, person_ref, rule_version, data, voids)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            rec.seq,
            case_id,
            str(meta.event_id),
            rec.name,
            meta.occurred_on.isoformat(),
            meta.recorded_at.isoformat(),
            meta.office_id,
            None if meta.person_ref is None else str(meta.person_ref),
            meta.rule_version,
            public,
            None if target is None else str(target),
        ),
    )
    if target is not None:
        _void(tx, case_id, str(target), by=str(meta.event_id))


def _void(tx: Tx, case_id: str, event_id: str, *, by: str) -> None:
    """``by`` takes ``event_id`` back; if that was itself a take-back, its target counts again."""
    tx.execute(
        "UPDATE rf_events SET voided_by = ? WHERE case_id = ? AND event_id = ?",
        (by, case_id, event_id),
    )
    target = _voids(tx, case_id, event_id)
    if target is not None:
        _unvoid(tx, case_id, target, was_by=event_id)


def _unvoid(tx: Tx, case_id: str, event_id: str, *, was_by: str) -> None:
    counts_again = tx.execute(
        "UPDATE rf_events SET voided_by = NULL"
        " WHERE case_id = ? AND event_id = ? AND voided_by = ?",
        (case_id, event_id, was_by),
    ).rowcount
    target = _voids(tx, case_id, event_id)
    if counts_again and target is not None:
        _void(tx, case_id, target, by=event_id)


def _voids(tx: Tx, case_id: str, event_id: str) -> str | None:
    row = tx.execute(
        "SELECT voids FROM rf_events WHERE case_id = ? AND event_id = ?",
        (case_id, event_id),
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


report_facts.on(*FACT_EVENTS)(_record)
