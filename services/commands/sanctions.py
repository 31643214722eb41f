"""Commands of sanctions: warning, hearing, sanction."""

from __future__ import annotations

from typing import Annotated, ClassVar, Self
from uuid import UUID

from pydantic import Field, model_validator

from events.base import Personal
from events.common import Percent
from events.sanctions import SanctionBasis
from services.commands.base import Command, NoteText, PersonalCommand, SaneDate


class IssueWarning(Command):
    """Record a formal warning (aanmaning) about a GPMI agreement."""

    command_name: ClassVar[str] = "IssueWarning"
    produces: ClassVar[tuple[str, ...]] = ("WarningIssued",)

    warning_id: UUID
    gpmi_id: UUID
    agreement_id: UUID
    respond_by: SaneDate | None = None


class RecordHearing(PersonalCommand):
    """Record a hearing (hoorrecht); the statement is required if the person attended."""

    command_name: ClassVar[str] = "RecordHearing"
    produces: ClassVar[tuple[str, ...]] = ("HearingHeld",)

    hearing_id: UUID
    warning_id: UUID | None = None
    attended: bool
    assisted: bool = False
    statement: Personal[NoteText] = None

    @model_validator(mode="after")
    def _statement_when_attended(self) -> Self:
        if self.attended and self.statement is None:
            raise ValueError("statement is required when the person attended the hearing")
        return self


class ImposeSanction(Command):
    """Record the BCSD's sanction (the legal maxima are checked when deciding)."""

    command_name: ClassVar[str] = "ImposeSanction"
    produces: ClassVar[tuple[str, ...]] = ("SanctionImposed",)

    decision_id: UUID
    basis: SanctionBasis
    months: Annotated[int, Field(strict=True, ge=1, le=24)]
    partial_percent: Percent = 100
    repeat: bool
    starts_on: SaneDate
    hearing_id: UUID | None = None
    warning_id: UUID | None = None
