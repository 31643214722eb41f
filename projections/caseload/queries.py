"""Reading the caseload: an office's open cases, counts, and GPMI deadlines on a date."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from projections.caseload.deadlines import Evaluation, GpmiDeadlines, GpmiFacts, deadlines
from projections.checkpoints import query
from services.db import Database


class Counsellor(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: str
    user_id: str
    assigned_from: date


class CaseloadRow(BaseModel):
    """One case as the caseload shows it (no personal data)."""

    model_config = ConfigDict(frozen=True)

    case_id: UUID
    office_id: str
    person_ref: UUID | None
    opened_on: date
    closed: bool
    closed_on: date | None
    outflow_on: date | None
    outflow_reason: str | None
    grant_decision_id: UUID | None
    right_type: str | None
    category: str | None
    right_status: str
    gpmi_required_since: date | None
    gpmi_exemption: str | None
    trajectory_id: UUID | None
    trajectory_kind: str | None
    gpmi_id: UUID | None
    last_activity_on: date
    last_event: str
    last_seq: int
    counsellors: tuple[Counsellor, ...] = ()


_FIELDS = tuple(f for f in CaseloadRow.model_fields if f != "counsellors")
_COLUMNS = ", ".join(f"k.{f}" for f in _FIELDS)


def _rows(db: Database, where: str, params: tuple[Any, ...]) -> list[CaseloadRow]:
    """Cases ``k`` matching ``where``, each with its current counsellors."""
    cases = query(
        db,
        f"SELECT {_COLUMNS} FROM caseload_cases k WHERE {where} ORDER BY k.opened_on, k.case_id",  # noqa: S608
        params,
    )
    counsellors: dict[str, list[Counsellor]] = defaultdict(list)
    current = (
        "SELECT c.case_id, c.role, c.counselor_user_id, c.assigned_from"  # noqa: S608
        " FROM caseload_counsellors c JOIN caseload_cases k ON k.case_id = c.case_id"
        f" WHERE c.assigned_until IS NULL AND {where} ORDER BY c.role, c.counselor_user_id"
    )
    for case_id, role, user_id, since in query(db, current, params):
        counsellors[str(case_id)].append(
            Counsellor(role=role, user_id=user_id, assigned_from=since)
        )
    return [
        CaseloadRow.model_validate(
            {**dict(zip(_FIELDS, r, strict=True)), "counsellors": counsellors[str(r[0])]}
        )
        for r in cases
    ]


def open_cases(db: Database, office_id: str) -> list[CaseloadRow]:
    """The office's open cases with their current counsellors, oldest first."""
    return _rows(db, "k.office_id = ? AND k.closed = FALSE", (office_id,))


def get_case(db: Database, case_id: UUID, *, office_id: str) -> CaseloadRow | None:
    """The case (open or closed) if ``office_id`` holds it now; None otherwise."""
    found = _rows(db, "k.case_id = ? AND k.office_id = ?", (str(case_id), office_id))
    return found[0] if found else None


def counts_per_office(db: Database) -> dict[str, int]:
    """Open cases per office (an aggregate: no case ids)."""
    rows = query(
        db,
        "SELECT office_id, COUNT(*) FROM caseload_cases WHERE closed = FALSE GROUP BY office_id",
    )
    return {str(office): int(n) for office, n in rows}


def counts_per_counsellor(db: Database, office_id: str) -> dict[str, int]:
    """Open cases of the office per currently assigned counsellor (any role, a case once)."""
    rows = query(
        db,
        "SELECT c.counselor_user_id, COUNT(DISTINCT c.case_id)"
        " FROM caseload_counsellors c JOIN caseload_cases k ON k.case_id = c.case_id"
        " WHERE k.office_id = ? AND k.closed = FALSE AND c.assigned_until IS NULL"
        " GROUP BY c.counselor_user_id",
        (office_id,),
    )
    return {str(user): int(n) for user, n in rows}


def counts_per_trajectory_kind(db: Database, office_id: str) -> dict[str | None, int]:
    """Open cases of the office per kind of their current trajectory (None: no trajectory)."""
    rows = query(
        db,
        "SELECT trajectory_kind, COUNT(*) FROM caseload_cases"
        " WHERE office_id = ? AND closed = FALSE GROUP BY trajectory_kind",
        (office_id,),
    )
    return {kind: int(n) for kind, n in rows}


class CaseDeadlines(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: UUID
    gpmi_id: UUID | None
    deadlines: GpmiDeadlines


def gpmi_deadlines(db: Database, office_id: str, on: date) -> list[CaseDeadlines]:
    """GPMI signing terms and evaluation counts of the office's open cases on ``on``."""
    cases = query(
        db,
        "SELECT k.case_id, k.gpmi_id, k.right_status, k.gpmi_required_since, k.gpmi_exemption,"
        " g.signed_on, g.ended_on FROM caseload_cases k"
        " LEFT JOIN caseload_gpmis g ON g.case_id = k.case_id AND g.gpmi_id = k.gpmi_id"
        " WHERE k.office_id = ? AND k.closed = FALSE ORDER BY k.opened_on, k.case_id",
        (office_id,),
    )
    evaluations: dict[tuple[str, str], list[Evaluation]] = defaultdict(list)
    for case_id, gpmi_id, evaluated_on, in_person in query(
        db,
        "SELECT e.case_id, e.gpmi_id, e.evaluated_on, e.in_person FROM caseload_evaluations e"
        " JOIN caseload_cases k ON k.case_id = e.case_id AND k.gpmi_id = e.gpmi_id"
        " WHERE k.office_id = ? AND k.closed = FALSE",
        (office_id,),
    ):
        evaluations[(str(case_id), str(gpmi_id))].append(
            Evaluation(evaluated_on=evaluated_on, in_person=in_person)
        )
    out = []
    for case_id, gpmi_id, status, since, exemption, signed_on, ended_on in cases:
        facts = GpmiFacts(
            right_status=status,
            gpmi_required_since=since,
            gpmi_exemption=exemption,
            gpmi_signed_on=signed_on,
            gpmi_ended_on=ended_on,
            evaluations=tuple(evaluations[(str(case_id), str(gpmi_id))]),
        )
        out.append(CaseDeadlines(case_id=case_id, gpmi_id=gpmi_id, deadlines=deadlines(facts, on)))
    return out
