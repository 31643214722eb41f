"""GPMI deadlines on a given date, from the dates the caseload stores (pure functions, no I/O).

- A GPMI must be signed within 3 months of the first grant that requires one (decision date,
  the BCSD session) [S3]. Exempt grants and cases without a running right have no term.
- A running GPMI is evaluated at least 3 times a year, at least 2 of them in person [S3].
  "A year" is read as a GPMI year from the signing date and its anniversaries [I]: a year is
  ``met`` once it holds 3 evaluations of which 2 in person, ``due`` until then, and
  ``overdue`` while it is not met and the GPMI year before it was not met either.
- After the case's GPMI ended it shows ``ended`` until a new one is signed.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict

SIGN_WITHIN_MONTHS: Final = 3
EVALUATIONS_PER_YEAR: Final = 3
IN_PERSON_PER_YEAR: Final = 2


class GpmiStatus(StrEnum):
    NOT_APPLICABLE = "not_applicable"
    EXEMPT = "exempt"
    TO_SIGN = "to_sign"
    SIGN_OVERDUE = "sign_overdue"
    SIGNED = "signed"
    ENDED = "ended"


class EvaluationStatus(StrEnum):
    MET = "met"
    DUE = "due"
    OVERDUE = "overdue"


class Evaluation(BaseModel):
    model_config = ConfigDict(frozen=True)

    evaluated_on: date
    in_person: bool


class GpmiFacts(BaseModel):
    """What the caseload stores about a case's GPMI obligations."""

    model_config = ConfigDict(frozen=True)

    right_status: str
    gpmi_required_since: date | None
    gpmi_exemption: str | None
    gpmi_signed_on: date | None
    gpmi_ended_on: date | None
    evaluations: tuple[Evaluation, ...] = ()


class GpmiDeadlines(BaseModel):
    """A case's GPMI status and evaluation count on the date ``on``."""

    model_config = ConfigDict(frozen=True)

    on: date
    gpmi_status: GpmiStatus
    sign_by: date | None = None
    evaluation_status: EvaluationStatus | None = None
    year_starts_on: date | None = None
    year_ends_on: date | None = None
    evaluations: int = 0
    in_person: int = 0


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day if it has no such day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def gpmi_year(signed_on: date, on: date) -> tuple[date, date]:
    """First and last day of the GPMI year (from signing, by anniversaries) holding ``on``."""
    years = on.year - signed_on.year
    if add_months(signed_on, 12 * years) > on:
        years -= 1
    start = add_months(signed_on, 12 * years)
    return start, add_months(signed_on, 12 * (years + 1)) - timedelta(days=1)


def _counts(evaluations: Iterable[Evaluation], first: date, last: date) -> tuple[int, int]:
    inside = [e for e in evaluations if first <= e.evaluated_on <= last]
    return len(inside), sum(e.in_person for e in inside)


def _met(total: int, in_person: int) -> bool:
    return total >= EVALUATIONS_PER_YEAR and in_person >= IN_PERSON_PER_YEAR


def deadlines(facts: GpmiFacts, on: date) -> GpmiDeadlines:
    """GPMI status, signing term and evaluation count of one case on ``on``."""
    signed, ended = facts.gpmi_signed_on, facts.gpmi_ended_on
    if signed is not None and signed <= on and (ended is None or ended > on):
        return _evaluations(facts, signed, on)
    if signed is not None and signed <= on:
        return GpmiDeadlines(on=on, gpmi_status=GpmiStatus.ENDED)
    if facts.right_status not in ("granted", "suspended"):
        return GpmiDeadlines(on=on, gpmi_status=GpmiStatus.NOT_APPLICABLE)
    if facts.gpmi_exemption is not None:
        return GpmiDeadlines(on=on, gpmi_status=GpmiStatus.EXEMPT)
    if facts.gpmi_required_since is None:
        return GpmiDeadlines(on=on, gpmi_status=GpmiStatus.NOT_APPLICABLE)
    sign_by = add_months(facts.gpmi_required_since, SIGN_WITHIN_MONTHS)
    status = GpmiStatus.TO_SIGN if on <= sign_by else GpmiStatus.SIGN_OVERDUE
    return GpmiDeadlines(on=on, gpmi_status=status, sign_by=sign_by)


def _evaluations(facts: GpmiFacts, signed_on: date, on: date) -> GpmiDeadlines:
    start, end = gpmi_year(signed_on, on)
    total, in_person = _counts(facts.evaluations, start, on)
    previous_met = True
    if start > signed_on:
        previous_start = gpmi_year(signed_on, start - timedelta(days=1))[0]
        previous_met = _met(*_counts(facts.evaluations, previous_start, start - timedelta(days=1)))
    if _met(total, in_person):
        status = EvaluationStatus.MET
    else:
        status = EvaluationStatus.DUE if previous_met else EvaluationStatus.OVERDUE
    return GpmiDeadlines(
        on=on,
        gpmi_status=GpmiStatus.SIGNED,
        evaluation_status=status,
        year_starts_on=start,
        year_ends_on=end,
        evaluations=total,
        in_person=in_person,
    )
