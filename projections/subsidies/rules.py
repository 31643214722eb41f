"""Audit rules on subsidy claims: pure functions over the dates the read model stores.

- A claim line "stands" while it is neither superseded by a correction nor rejected; the
  flags look only at standing lines (a rejected line is not paid, a superseded one is
  replaced by its correction).
- A month has an active right when at least one of its days lies within a grant (from
  ``effective_from`` to the earlier of ``effective_until`` and the end date) and outside that
  grant's suspensions (from ``suspended_from`` to the earlier of ``suspended_until`` and the
  day before ``resumed_from``).
- The GPMI subsidy runs from the month of signing for 12 months [S2]; an extension
  (code 17, ``GpmiExtended.extended_until``) runs it to the month of that date if later, and
  the month the GPMI ended is its last.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

STANDING: Final = ("submitted", "corrected", "approved")
GPMI_MONTHS: Final = 12
RIGHT_SCHEMES: Final = ("rmi_base", "gpmi")
"""Schemes refunding (a share of) the leefloon itself, so the month needs an active right.

Art. 60/TWE, art. 61, LAP and ESF pay for a job or an effort; the person may earn a wage
instead of receiving the leefloon in those months [I].
"""


class Flag(StrEnum):
    NO_EVIDENCE = "no_evidence"
    DUPLICATE = "duplicate"
    NO_ACTIVE_RIGHT = "no_active_right"
    GPMI_OUTSIDE_WINDOW = "gpmi_outside_window"


def _earliest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


@dataclass(frozen=True, slots=True)
class GrantPeriod:
    decision_id: str
    effective_from: date
    effective_until: date | None
    ended_on: date | None

    @property
    def last_day(self) -> date | None:
        return _earliest(self.effective_until, self.ended_on)


@dataclass(frozen=True, slots=True)
class Suspension:
    grant_decision_id: str
    suspended_from: date
    suspended_until: date | None
    resumed_from: date | None

    @property
    def last_day(self) -> date | None:
        resumed = None if self.resumed_from is None else self.resumed_from - timedelta(days=1)
        return _earliest(self.suspended_until, resumed)


def month_days(period: str) -> tuple[date, date]:
    """First and last day of a month ``YYYY-MM``."""
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def add_months(period: str, months: int) -> str:
    index = int(period[:4]) * 12 + int(period[5:7]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def active_in_month(
    grants: Iterable[GrantPeriod], suspensions: Iterable[Suspension], period: str
) -> bool:
    """Whether any day of ``period`` lies in a grant and outside that grant's suspensions."""
    first, last = month_days(period)
    held = list(suspensions)
    for grant in grants:
        start = max(grant.effective_from, first)
        end = min(grant.last_day or last, last)
        gaps = sorted(
            (s.suspended_from, s.last_day or end)
            for s in held
            if s.grant_decision_id == grant.decision_id
        )
        day = start
        for gap_start, gap_end in gaps:
            if day > end or gap_start > day:
                break
            day = max(day, gap_end + timedelta(days=1))
        if day <= end:
            return True
    return False


@dataclass(frozen=True, slots=True)
class GpmiWindow:
    gpmi_id: str
    signed_on: date
    extended_until: date | None
    ended_on: date | None

    @property
    def months(self) -> tuple[str, str]:
        """First and last month the GPMI subsidy may be claimed for."""
        first = month_of(self.signed_on)
        last = add_months(first, GPMI_MONTHS - 1)
        if self.extended_until is not None:
            last = max(last, month_of(self.extended_until))
        if self.ended_on is not None:
            last = min(last, month_of(self.ended_on))
        return first, last


def gpmi_window_problem(
    period: str, gpmi_id: str | None, windows: Iterable[GpmiWindow]
) -> str | None:
    """Why a GPMI claim for ``period`` lies outside the subsidy window, or None if it is in it.

    A claim naming a GPMI is checked against that one; otherwise against any of the case's.
    """
    candidates = [w for w in windows if gpmi_id is None or w.gpmi_id == gpmi_id]
    if not candidates:
        return f"GPMI {gpmi_id} is not in the case" if gpmi_id else "no GPMI signed in the case"
    spans = [w.months for w in candidates]
    if any(first <= period <= last for first, last in spans):
        return None
    shown = ", ".join(f"{first}..{last}" for first, last in sorted(spans))
    return f"{period} lies outside the GPMI subsidy window {shown}"
