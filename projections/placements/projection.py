"""The ``placements`` read model: current and past placements, their extensions and ends."""

from __future__ import annotations

from events.case import CaseTransferred
from events.codec import RecordedEvent
from events.placements import PlacementEnded, PlacementExtended, PlacementStarted
from projections.journal import CaseProjection
from projections.projection import Table, Tx, update_one

PLACEMENTS = Table(
    name="placements",
    ddl=(
        "CREATE TABLE IF NOT EXISTS placements ("
        " placement_id TEXT PRIMARY KEY,"
        " case_id TEXT NOT NULL,"
        " office_id TEXT NOT NULL,"
        " placement_type TEXT NOT NULL,"
        " employer_kbo TEXT NOT NULL,"
        " placed_with_kbo TEXT,"
        " hours_per_week TEXT NOT NULL,"
        " contract TEXT NOT NULL,"
        " agreement_signed_on DATE,"
        " starts_on DATE NOT NULL,"
        " first_planned_end DATE,"
        " planned_end DATE,"
        " extensions INTEGER NOT NULL,"
        " ended_on DATE,"
        " end_reason TEXT,"
        " hired_by_kbo TEXT,"
        " trajectory_id TEXT,"
        " mlp_ref TEXT,"
        " started_seq BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS placements_case ON placements (case_id)",
        "CREATE INDEX IF NOT EXISTS placements_office ON placements (office_id, starts_on)",
    ),
)

EXTENSIONS = Table(
    name="placement_extensions",
    ddl=(
        "CREATE TABLE IF NOT EXISTS placement_extensions ("
        " event_id TEXT PRIMARY KEY,"
        " case_id TEXT NOT NULL,"
        " placement_id TEXT NOT NULL,"
        " extended_on DATE NOT NULL,"
        " planned_end DATE NOT NULL,"
        " seq BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS placement_extensions_case"
        " ON placement_extensions (case_id, placement_id)",
    ),
)

placements = CaseProjection(name="placements", version=1, tables=(PLACEMENTS, EXTENSIONS))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@placements.on("PlacementStarted")
def started(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, PlacementStarted)
    e = rec.event
    tx.execute(
        "INSERT INTO placements (placement_id, case_id, office_id, placement_type, employer_kbo,"
        " placed_with_kbo, hours_per_week, contract, agreement_signed_on, starts_on,"
        " first_planned_end, planned_end, extensions, trajectory_id, mlp_ref, started_seq)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
        (
            str(e.placement_id),
            str(rec.meta.case_id),
            rec.meta.office_id,
            e.placement_type.value,
            e.employer_kbo,
            e.placed_with_kbo,
            str(e.hours_per_week),
            e.contract.value,
            _text(e.agreement_signed_on),
            e.starts_on.isoformat(),
            _text(e.planned_end),
            _text(e.planned_end),
            _text(e.trajectory_id),
            e.mlp_ref,
            rec.seq,
        ),
    )


def _placement(
    tx: Tx,
    rec: RecordedEvent,
    placement: object,
    assignments: str,
    *values: object,
    running: bool = False,
) -> None:
    """Change a placement of this case (a running one if ``running``); else stop."""
    case_id = str(rec.meta.case_id)
    condition = " AND ended_on IS NULL" if running else ""
    state = "running " if running else ""
    update_one(
        tx,
        f"UPDATE placements SET {assignments}"  # noqa: S608
        f" WHERE placement_id = ? AND case_id = ?{condition}",
        (*values, str(placement), case_id),
        f"{rec.name} names placement {placement}, not a {state}placement of case {case_id}",
    )


@placements.on("PlacementExtended")
def extended(tx: Tx, rec: RecordedEvent) -> None:
    """The planned end moves; each extension is kept."""
    assert isinstance(rec.event, PlacementExtended)
    e = rec.event
    _placement(
        tx,
        rec,
        e.placement_id,
        "planned_end = ?, extensions = extensions + 1",
        e.planned_end.isoformat(),
    )
    tx.execute(
        "INSERT INTO placement_extensions (event_id, case_id, placement_id, extended_on,"
        " planned_end, seq) VALUES (?, ?, ?, ?, ?, ?)",
        (
            str(rec.meta.event_id),
            str(rec.meta.case_id),
            str(e.placement_id),
            rec.meta.occurred_on.isoformat(),
            e.planned_end.isoformat(),
            rec.seq,
        ),
    )


@placements.on("PlacementEnded")
def ended(tx: Tx, rec: RecordedEvent) -> None:
    """The business date is the last day worked; a placement ends once."""
    assert isinstance(rec.event, PlacementEnded)
    e = rec.event
    _placement(
        tx,
        rec,
        e.placement_id,
        "ended_on = ?, end_reason = ?, hired_by_kbo = ?",
        rec.meta.occurred_on.isoformat(),
        e.reason.value,
        e.hired_by_kbo,
        running=True,
    )


@placements.on("CaseTransferred")
def transferred(tx: Tx, rec: RecordedEvent) -> None:
    """The case's placements move with it to the office that holds it now."""
    assert isinstance(rec.event, CaseTransferred)
    tx.execute(
        "UPDATE placements SET office_id = ? WHERE case_id = ?",
        (rec.event.to_office_id, str(rec.meta.case_id)),
    )


@placements.on("EventRetracted")
def retracted(tx: Tx, rec: RecordedEvent) -> None:
    """Nothing beyond the rebuild of the case, which the journal already did."""
