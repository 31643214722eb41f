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

_COLUMNS: Final = (
    "seq BIGINT NOT NULL",
    "case_id TEXT NOT NULL",
    "event_id TEXT NOT NULL",
    "name TEXT NOT NULL",
    "occurred_on TEXT NOT NULL",
    "recorded_at TEXT NOT NULL",
    "office_id TEXT NOT NULL",
    "person_ref TEXT",
    "rule_version TEXT",
    "data TEXT NOT NULL",
    "voids TEXT",
    "voided_by TEXT",
)

FACTS_TABLE: Final = Table(
    name="rf_events",
    ddl=(
        f"CREATE TABLE IF NOT EXISTS rf_events ({', '.join(_COLUMNS)},"
        " PRIMARY KEY (seq), UNIQUE (event_id))",
    ),
)

BULK_TABLE: Final = f"CREATE TABLE IF NOT EXISTS rf_events ({', '.join(_COLUMNS)})"
"""``rf_events`` without its keys, to load many rows at a time (``replay.replay_facts``)."""
BULK_KEYS: Final = (
    "CREATE UNIQUE INDEX IF NOT EXISTS rf_events_seq ON rf_events (seq)",
    "CREATE UNIQUE INDEX IF NOT EXISTS rf_events_event_id ON rf_events (event_id)",
)
"""The keys of ``FACTS_TABLE``, built once after loading: a third of the cost of keeping
them up per row."""

CASE_INDEX: Final = "CREATE INDEX IF NOT EXISTS rf_events_case ON rf_events (case_id, seq)"
"""Built once after the replay (``history.iter_cases``): cheaper than keeping it up per insert."""

report_facts = Projection(name="report_facts", version=1, tables=(FACTS_TABLE,))


INSERT_FACT: Final = (
    "INSERT INTO rf_events (seq, case_id, event_id, name, occurred_on, recorded_at,"
    " office_id, person_ref, rule_version, data, voids)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

FactRow = tuple[int, str, str, str, str, str, str, str | None, str | None, str, str | None]
"""The values of ``INSERT_FACT``: seq, case, event id, name, dates, office, person, rule
version, public payload (JSON) and the event id it voids."""


def fact_row(rec: RecordedEvent) -> FactRow:
    """The ``rf_events`` row of a decoded event (``extract`` builds it from the raw record)."""
    meta = rec.meta
    # Personal fields are left out (they are sealed and never read by reports).
    public = rec.event.model_dump_json(exclude=set(rec.event.personal_fields()))
    target = voided_by(rec)
    return (
        rec.seq,
        str(meta.case_id),
        str(meta.event_id),
        rec.name,
        meta.occurred_on.isoformat(),
        meta.recorded_at.isoformat(),
        meta.office_id,
        None if meta.person_ref is None else str(meta.person_ref),
        meta.rule_version,
        public,
        None if target is None else str(target),
    )


def _record(tx: Tx, rec: RecordedEvent) -> None:
    row = fact_row(rec)
    tx.execute(INSERT_FACT, row)
    if row[10] is not None:
        _void(tx, row[1], row[10], by=row[2], upto=row[0])


def apply_voids(tx: Tx) -> None:
    """Apply every row's ``voids`` in stream order, after the rows were inserted without it.

    Gives the same ``voided_by`` as voiding at insert time: each take-back only sees (and
    changes) rows up to its own sequence, as when it was applied (``upto``), and what it
    reads besides ``voided_by`` (``voids``) never changes.
    """
    takebacks = tx.execute(
        "SELECT seq, case_id, event_id, voids FROM rf_events WHERE voids IS NOT NULL ORDER BY seq"
    ).fetchall()
    for seq, case_id, event_id, target in takebacks:
        _void(tx, str(case_id), str(target), by=str(event_id), upto=int(seq))


def _void(tx: Tx, case_id: str, event_id: str, *, by: str, upto: int) -> None:
    """``by`` takes ``event_id`` back; if that was itself a take-back, its target counts again.

    Only rows up to sequence ``upto`` (the take-back's) exist as far as it is concerned.
    """
    tx.execute(
        "UPDATE rf_events SET voided_by = ? WHERE case_id = ? AND event_id = ? AND seq <= ?",
        (by, case_id, event_id, upto),
    )
    target = _voids(tx, case_id, event_id, upto)
    if target is not None:
        _unvoid(tx, case_id, target, was_by=event_id, upto=upto)


def _unvoid(tx: Tx, case_id: str, event_id: str, *, was_by: str, upto: int) -> None:
    counts_again = tx.execute(
        "UPDATE rf_events SET voided_by = NULL"
        " WHERE case_id = ? AND event_id = ? AND voided_by = ? AND seq <= ?",
        (case_id, event_id, was_by, upto),
    ).rowcount
    target = _voids(tx, case_id, event_id, upto)
    if counts_again and target is not None:
        _void(tx, case_id, target, by=event_id, upto=upto)


def _voids(tx: Tx, case_id: str, event_id: str, upto: int) -> str | None:
    row = tx.execute(
        "SELECT voids FROM rf_events WHERE case_id = ? AND event_id = ? AND seq <= ?",
        (case_id, event_id, upto),
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


report_facts.on(*FACT_EVENTS)(_record)
