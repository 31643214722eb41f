"""Events of sanctions: formal warning (aanmaning), hearing (hoorrecht), sanction."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from events.base import FreeText, Personal
from events.common import CatalogueEvent, Percent


class SanctionEvent(CatalogueEvent):
    area: ClassVar[str] = "sanctions"


class SanctionBasis(StrEnum):
    """Legal ground of a sanction (RMI law art. 30)."""

    GPMI_BREACH = "gpmi_breach"
    UNDECLARED_RESOURCES = "undeclared_resources"
    FRAUD = "fraud"


class WarningIssued(SanctionEvent):
    """A formal warning (aanmaning) about a GPMI agreement; a sanction needs one first."""

    event_name: ClassVar[str] = "WarningIssued"
    event_version: ClassVar[int] = 1

    warning_id: UUID
    gpmi_id: UUID
    agreement_id: UUID
    respond_by: date | None = None


class HearingHeld(SanctionEvent):
    """The person was heard (hoorrecht) before a decision against them."""

    event_name: ClassVar[str] = "HearingHeld"
    event_version: ClassVar[int] = 1

    hearing_id: UUID
    warning_id: UUID | None = None
    attended: bool = Field(description="False if the person was invited but did not come.")
    assisted: bool = Field(default=False, description="The person brought a counsel.")
    statement: Personal[FreeText] = Field(default=None, description="What the person stated.")


class SanctionImposed(SanctionEvent):
    """The BCSD imposed a (partial) suspension of the right as a sanction."""

    event_name: ClassVar[str] = "SanctionImposed"
    event_version: ClassVar[int] = 1

    decision_id: UUID
    basis: SanctionBasis
    months: Annotated[int, Field(ge=1, le=24)] = Field(
        description="Duration in months; the legal maximum depends on basis and repeat.",
        examples=[1],
    )
    partial_percent: Percent = Field(
        default=100, description="Share of the right suspended; 100 = fully."
    )
    repeat: bool = Field(description="A repeat offence within the legal period.")
    starts_on: date = Field(description="First day of the suspension.")
    hearing_id: UUID | None = None
    warning_id: UUID | None = None
