"""Reading the case directory: an office sees only the cases it currently holds."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from projections.checkpoints import query
from services.db import Database


class CaseRow(BaseModel):
    """One case as the directory shows it (no personal data)."""

    model_config = ConfigDict(frozen=True)

    case_id: UUID
    office_id: str
    version: int
    last_seq: int
    first_occurred_on: date
    last_occurred_on: date
    last_recorded_at: datetime
    last_event: str
    event_count: int
    closed: bool


_FIELDS = tuple(CaseRow.model_fields)
_COLUMNS = ", ".join(_FIELDS)


def _row(values: tuple[Any, ...]) -> CaseRow:
    return CaseRow.model_validate(dict(zip(_FIELDS, values, strict=True)))


def cases_of_office(db: Database, office_id: str) -> list[CaseRow]:
    """The office's cases, most recently changed first."""
    rows = query(
        db,
        f"SELECT {_COLUMNS} FROM case_directory WHERE office_id = ? ORDER BY last_seq DESC",  # noqa: S608
        (office_id,),
    )
    return [_row(r) for r in rows]


def get_case(db: Database, case_id: UUID, *, office_id: str) -> CaseRow | None:
    """The case if ``office_id`` holds it now; None otherwise (other offices see nothing)."""
    rows = query(
        db,
        f"SELECT {_COLUMNS} FROM case_directory WHERE case_id = ? AND office_id = ?",  # noqa: S608
        (str(case_id), office_id),
    )
    return _row(rows[0]) if rows else None
