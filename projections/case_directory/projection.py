"""The ``case_directory`` read model: one row per case, fed by every event of the catalogue."""

from __future__ import annotations

from events.case import CaseTransferred, EventRetracted
from events.codec import RecordedEvent
from events.registry import registry
from projections.projection import Projection, Table, Tx, update_one

TABLE = Table(
    name="case_directory",
    ddl=(
        "CREATE TABLE IF NOT EXISTS case_directory ("
        " case_id TEXT PRIMARY KEY,"
        " office_id TEXT NOT NULL,"
        " version BIGINT NOT NULL,"
        " last_seq BIGINT NOT NULL,"
        " first_occurred_on DATE NOT NULL,"
        " last_occurred_on DATE NOT NULL,"
        " last_recorded_at TIMESTAMPTZ NOT NULL,"
        " last_event TEXT NOT NULL,"
        " event_count BIGINT NOT NULL,"
        " closed BOOLEAN NOT NULL,"
        " closed_by TEXT)",
        "CREATE INDEX IF NOT EXISTS case_directory_office ON case_directory (office_id, last_seq)",
    ),
)

case_directory = Projection(name="case_directory", version=1, tables=(TABLE,))

# A case's events arrive in version order: anything else means a gap or a double apply.
_UPSERT = """
INSERT INTO case_directory (case_id, office_id, version, last_seq, first_occurred_on,
    last_occurred_on, last_recorded_at, last_event, event_count, closed)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, FALSE)
ON CONFLICT (case_id) DO UPDATE SET
    office_id = excluded.office_id,
    version = excluded.version,
    last_seq = excluded.last_seq,
    first_occurred_on = CASE WHEN excluded.first_occurred_on < case_directory.first_occurred_on
        THEN excluded.first_occurred_on ELSE case_directory.first_occurred_on END,
    last_occurred_on = CASE WHEN excluded.last_occurred_on > case_directory.last_occurred_on
        THEN excluded.last_occurred_on ELSE case_directory.last_occurred_on END,
    last_recorded_at = excluded.last_recorded_at,
    last_event = excluded.last_event,
    event_count = case_directory.event_count + 1
WHERE case_directory.version = excluded.version - 1
"""

# Only CaseClosed closes a case: aftercare, employment checks and claims follow an outflow
# (the domain and the caseload read model agree).
CLOSING = ("CaseClosed",)
SPECIAL = (*CLOSING, "CaseReopened", "CaseTransferred", "EventRetracted")


def record(tx: Tx, rec: RecordedEvent, *, office_id: str | None = None) -> None:
    """Count the event on its case's row (created by the case's first event)."""
    meta = rec.meta
    day = meta.occurred_on.isoformat()
    update_one(
        tx,
        _UPSERT,
        (
            str(meta.case_id),
            office_id or meta.office_id,
            rec.case_version,
            rec.seq,
            day,
            day,
            meta.recorded_at.isoformat(),
            rec.name,
        ),
        f"case {meta.case_id}: version {rec.case_version} does not follow the stored version",
        ValueError,
    )


def _set_closed(tx: Tx, rec: RecordedEvent, closed_by: str | None) -> None:
    tx.execute(
        "UPDATE case_directory SET closed = ?, closed_by = ? WHERE case_id = ?",
        (closed_by is not None, closed_by, str(rec.meta.case_id)),
    )


for _name in registry().names():
    if _name not in SPECIAL:
        case_directory.on(_name)(record)


@case_directory.on(*CLOSING)
def closed(tx: Tx, rec: RecordedEvent) -> None:
    record(tx, rec)
    _set_closed(tx, rec, str(rec.meta.event_id))


@case_directory.on("CaseReopened")
def reopened(tx: Tx, rec: RecordedEvent) -> None:
    record(tx, rec)
    _set_closed(tx, rec, None)


@case_directory.on("CaseTransferred")
def transferred(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, CaseTransferred)
    record(tx, rec, office_id=rec.event.to_office_id)


@case_directory.on("EventRetracted")
def retracted(tx: Tx, rec: RecordedEvent) -> None:
    """Retracting the event that closed the case opens it again."""
    assert isinstance(rec.event, EventRetracted)
    record(tx, rec)
    tx.execute(
        "UPDATE case_directory SET closed = FALSE, closed_by = NULL"
        " WHERE case_id = ? AND closed_by = ?",
        (str(rec.meta.case_id), str(rec.event.retracted_event_id)),
    )
