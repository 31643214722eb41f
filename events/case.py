"""Events of the case file itself: transfer between offices, closing, reopening, retraction."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from events.common import CatalogueEvent
from events.envelope import OfficeId


class CaseEvent(CatalogueEvent):
    area: ClassVar[str] = "case"


class TransferReason(StrEnum):
    """Why another OCMW becomes territorially competent."""

    MOVED_RESIDENCE = "moved_residence"
    COMPETENCE_CORRECTED = "competence_corrected"


class CloseReason(StrEnum):
    """Why a case file was closed."""

    OUTFLOW = "outflow"
    AID_REFUSED = "aid_refused"
    REQUEST_WITHDRAWN = "request_withdrawn"
    TRANSFERRED = "transferred"
    DECEASED = "deceased"


class ReopenReason(StrEnum):
    """Why a closed case file was opened again."""

    NEW_AID_REQUEST = "new_aid_request"
    APPEAL_UPHELD = "appeal_upheld"


class RetractionReason(StrEnum):
    """Why an event should never have been recorded."""

    RECORDED_IN_ERROR = "recorded_in_error"
    WRONG_CASE = "wrong_case"
    DUPLICATE = "duplicate"


class CaseTransferred(CaseEvent):
    """The case moves to another OCMW; from ``effective_on`` only that office may write to it."""

    event_name: ClassVar[str] = "CaseTransferred"
    event_version: ClassVar[int] = 1

    to_office_id: OfficeId
    reason: TransferReason
    effective_on: date


class CaseClosed(CaseEvent):
    """The case file was closed; the retention term of the file runs from here."""

    event_name: ClassVar[str] = "CaseClosed"
    event_version: ClassVar[int] = 1

    reason: CloseReason


class CaseReopened(CaseEvent):
    """A closed case file was reopened."""

    event_name: ClassVar[str] = "CaseReopened"
    event_version: ClassVar[int] = 1

    reason: ReopenReason


class EventRetracted(CaseEvent):
    """An event of the same case was recorded in error and no longer counts.

    Unlike a correction (an event of the same type with ``corrects`` set in its envelope),
    a retraction replaces the event with nothing.
    """

    event_name: ClassVar[str] = "EventRetracted"
    event_version: ClassVar[int] = 1

    retracted_event_id: UUID = Field(description="Event id of the retracted event, same case.")
    reason: RetractionReason
