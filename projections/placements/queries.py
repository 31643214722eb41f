"""Reading placements: a case's or an office's placements, and the overview per employer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from projections.checkpoints import query
from services.db import Database


class PlacementRow(BaseModel):
    """One placement; ``workplace_kbo`` is where the person works (the user organisation of an
    art. 60 §7 placement, else the employer)."""

    model_config = ConfigDict(frozen=True)

    placement_id: UUID
    case_id: UUID
    office_id: str
    placement_type: str
    employer_kbo: str
    placed_with_kbo: str | None
    workplace_kbo: str
    hours_per_week: Decimal
    contract: str
    agreement_signed_on: date | None
    starts_on: date
    first_planned_end: date | None
    planned_end: date | None
    extensions: int
    ended_on: date | None
    end_reason: str | None
    hired_by_kbo: str | None
    trajectory_id: UUID | None
    mlp_ref: str | None

    def current_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ended_on is None or self.ended_on >= day)


WORKPLACE = "COALESCE(placed_with_kbo, employer_kbo)"
_FIELDS = tuple(PlacementRow.model_fields)
_COLUMNS = ", ".join(WORKPLACE if f == "workplace_kbo" else f for f in _FIELDS)
# Started by ``on`` and not ended before it (the end date is the last day worked).
CURRENT = "starts_on <= ? AND (ended_on IS NULL OR ended_on >= ?)"


def _select(db: Database, where: str, params: tuple[Any, ...]) -> list[PlacementRow]:
    rows = query(
        db,
        f"SELECT {_COLUMNS} FROM placements WHERE {where}"  # noqa: S608
        " ORDER BY starts_on, started_seq",
        params,
    )
    return [PlacementRow.model_validate(dict(zip(_FIELDS, r, strict=True))) for r in rows]


def placements_of_case(db: Database, case_id: UUID, *, office_id: str) -> list[PlacementRow]:
    """The case's placements, current and past, if ``office_id`` holds the case now."""
    return _select(db, "case_id = ? AND office_id = ?", (str(case_id), office_id))


def placements_of_office(
    db: Database, office_id: str, *, current_on: date | None = None
) -> list[PlacementRow]:
    """All the office's placements, or only those current on ``current_on``."""
    if current_on is None:
        return _select(db, "office_id = ?", (office_id,))
    day = current_on.isoformat()
    return _select(db, f"office_id = ? AND {CURRENT}", (office_id, day, day))


class EmployerLine(BaseModel):
    """Placements of one office at one workplace and of one type."""

    model_config = ConfigDict(frozen=True)

    workplace_kbo: str
    placement_type: str
    current: int
    total: int


def employer_overview(db: Database, office_id: str, on: date) -> list[EmployerLine]:
    """Per workplace and placement type: placements current on ``on`` and all placements."""
    day = on.isoformat()
    rows = query(
        db,
        f"SELECT {WORKPLACE} AS workplace, placement_type,"  # noqa: S608
        f" SUM(CASE WHEN {CURRENT} THEN 1 ELSE 0 END), COUNT(*)"
        " FROM placements WHERE office_id = ?"
        f" GROUP BY {WORKPLACE}, placement_type ORDER BY workplace, placement_type",
        (day, day, office_id),
    )
    return [
        EmployerLine(workplace_kbo=w, placement_type=t, current=int(c), total=int(n))
        for w, t, c, n in rows
    ]
