"""Commands on the case file: transfer, close, reopen, retract an event."""

from __future__ import annotations

from typing import ClassVar, Self
from uuid import UUID

from pydantic import model_validator

from events.case import CloseReason, ReopenReason, RetractionReason, TransferReason
from events.envelope import OfficeId
from services.commands.base import Command, SaneDate


class TransferCase(Command):
    """Hand the case to the OCMW that became territorially competent."""

    command_name: ClassVar[str] = "TransferCase"
    produces: ClassVar[tuple[str, ...]] = ("CaseTransferred",)

    to_office_id: OfficeId
    reason: TransferReason
    effective_on: SaneDate


class CloseCase(Command):
    """Close the case file."""

    command_name: ClassVar[str] = "CloseCase"
    produces: ClassVar[tuple[str, ...]] = ("CaseClosed",)

    reason: CloseReason


class ReopenCase(Command):
    """Reopen a closed case file."""

    command_name: ClassVar[str] = "ReopenCase"
    produces: ClassVar[tuple[str, ...]] = ("CaseReopened",)

    reason: ReopenReason


class RetractEvent(Command):
    """Take back an event of this case that was recorded in error."""

    command_name: ClassVar[str] = "RetractEvent"
    produces: ClassVar[tuple[str, ...]] = ("EventRetracted",)

    retracted_event_id: UUID
    reason: RetractionReason

    @model_validator(mode="after")
    def _not_a_correction(self) -> Self:
        if self.corrects is not None:
            raise ValueError("corrects: a retraction cannot itself be a correction")
        return self
