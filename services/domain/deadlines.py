"""Deadlines the law sets, reported on a case (never enforced): GPMI within 3 months of the grant,
at least 3 GPMI evaluations a year of which 2 in person, decisions notified within 8 days."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final
from uuid import UUID

from events.base import Frozen

if TYPE_CHECKING:
    from services.domain.activities import Gpmi
    from services.domain.state import CaseState

GPMI_WITHIN_MONTHS: Final = 3
EVALUATIONS_A_YEAR: Final = 3
IN_PERSON_A_YEAR: Final = 2
NOTIFY_WITHIN_DAYS: Final = 8


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the last day of a shorter month."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class DeadlineKind(StrEnum):
    GPMI_SIGNED = "gpmi_signed"
    GPMI_EVALUATIONS = "gpmi_evaluations"
    DECISION_NOTIFIED = "decision_notified"


class DeadlineStatus(StrEnum):
    PENDING = "pending"
    MET = "met"
    MET_LATE = "met_late"
    OVERDUE = "overdue"


class Deadline(Frozen):
    """One legal deadline of the case and where it stands on ``as_of``."""

    kind: DeadlineKind
    subject_id: UUID
    due_on: date
    met_on: date | None
    status: DeadlineStatus
    detail: str = ""

    @property
    def overdue(self) -> bool:
        return self.status is DeadlineStatus.OVERDUE


def _deadline(
    kind: DeadlineKind,
    subject: UUID,
    due_on: date,
    met_on: date | None,
    as_of: date,
    detail: str = "",
) -> Deadline:
    if met_on is not None:
        status = DeadlineStatus.MET if met_on <= due_on else DeadlineStatus.MET_LATE
    else:
        status = DeadlineStatus.OVERDUE if as_of > due_on else DeadlineStatus.PENDING
    return Deadline(
        kind=kind, subject_id=subject, due_on=due_on, met_on=met_on, status=status, detail=detail
    )


def deadlines(state: CaseState, as_of: date) -> tuple[Deadline, ...]:
    """Every deadline of the case that has started by ``as_of``, oldest due date first."""
    found: list[Deadline] = []
    for grant_id, grant in state.grants.items():
        if grant.gpmi_required and grant.on <= as_of:
            signings = [g.on for g in state.gpmis.values() if g.on >= grant.effective_from]
            met = min((d for d in signings if d <= as_of), default=None)
            due = add_months(grant.bcsd_session_on, GPMI_WITHIN_MONTHS)
            found.append(_deadline(DeadlineKind.GPMI_SIGNED, grant_id, due, met, as_of))
    for gpmi_id, gpmi in state.gpmis.items():
        found.extend(_evaluation_years(gpmi_id, gpmi, as_of))
    for decision_id, decision in state.decisions.items():
        if decision.on <= as_of:
            due = decision.on + timedelta(days=NOTIFY_WITHIN_DAYS)
            met = min((n.on for n in decision.notifications if n.on <= as_of), default=None)
            found.append(_deadline(DeadlineKind.DECISION_NOTIFIED, decision_id, due, met, as_of))
    return tuple(sorted(found, key=lambda d: (d.due_on, d.kind)))


def _evaluation_years(gpmi_id: UUID, gpmi: Gpmi, as_of: date) -> list[Deadline]:
    """One deadline per GPMI year that has begun (years cut short by the GPMI's end excluded)."""
    found: list[Deadline] = []
    year = 0
    while (start := add_months(gpmi.on, 12 * year)) <= as_of:
        end = add_months(gpmi.on, 12 * (year + 1)) - timedelta(days=1)
        if gpmi.ended is not None and gpmi.ended.on < end:
            break
        held = sorted(
            (e for e in gpmi.evaluations if start <= e.on <= min(end, as_of)), key=lambda e: e.on
        )
        met, total, in_person = None, 0, 0
        for evaluation in held:
            total += 1
            in_person += evaluation.in_person
            if met is None and total >= EVALUATIONS_A_YEAR and in_person >= IN_PERSON_A_YEAR:
                met = evaluation.on
        detail = (
            f"year {year + 1}: {total} of {EVALUATIONS_A_YEAR} evaluations, "
            f"{in_person} of {IN_PERSON_A_YEAR} in person"
        )
        found.append(
            _deadline(DeadlineKind.GPMI_EVALUATIONS, gpmi_id, end, met, as_of, detail=detail)
        )
        year += 1
    return found
