"""Events of work placements (TWE/art. 60, art. 61, stage, IBO...) and aftercare (nazorg)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from events.base import Code, Hours, Kbo, Month
from events.common import CatalogueEvent


class PlacementEvent(CatalogueEvent):
    area: ClassVar[str] = "placements"


class PlacementType(StrEnum):
    """Kind of placement."""

    TWE_ART60 = "twe_art60"
    ART61 = "art61"
    STAGE = "stage"
    IBO = "ibo"
    REGULAR = "regular"
    MAATWERK = "maatwerk"


class ContractType(StrEnum):
    """The contract or agreement the placement runs under."""

    WERKERVARINGSOVEREENKOMST = "werkervaringsovereenkomst"
    FIXED_TERM = "fixed_term"
    OPEN_ENDED = "open_ended"
    INTERNSHIP_AGREEMENT = "internship_agreement"
    IBO_AGREEMENT = "ibo_agreement"


class PlacementEndReason(StrEnum):
    """Why a placement ended."""

    COMPLETED = "completed"
    EARLY_STOP = "early_stop"
    HIRED = "hired"
    DISMISSED = "dismissed"


class AftercareOutcome(StrEnum):
    """Where the person stands when aftercare ends."""

    PERMANENT_JOB = "permanent_job"
    TEMPORARY_JOB = "temporary_job"
    TRAINING = "training"
    MAATWERK = "maatwerk"
    OWN_BUSINESS = "own_business"
    UNEMPLOYED = "unemployed"
    OTHER = "other"


class PlacementStarted(PlacementEvent):
    """A placement started. v2: decimal hours, VDAB MLP reference."""

    event_name: ClassVar[str] = "PlacementStarted"
    event_version: ClassVar[int] = 2
    date_order: ClassVar[tuple[tuple[str, str], ...]] = (
        ("agreement_signed_on", "starts_on"),
        ("starts_on", "planned_end"),
    )

    placement_id: UUID = Field(description="Id of the placement; later events link to it.")
    placement_type: PlacementType = Field(examples=["twe_art60"])
    employer_kbo: Kbo = Field(
        description="The employer; for art. 60 always the OCMW itself.", examples=["0207437468"]
    )
    placed_with_kbo: Kbo | None = Field(
        default=None,
        description="User organisation the person works at (art. 60 §7 placement).",
        examples=["0456789133"],
    )
    hours_per_week: Hours = Field(examples=["19", "30.4"])
    contract: ContractType = Field(examples=["werkervaringsovereenkomst"])
    agreement_signed_on: date | None = Field(
        default=None, description="Written placement agreement signed on (before the start)."
    )
    starts_on: date = Field(description="First working day.")
    planned_end: date | None = Field(default=None, description="Planned last day, if known.")
    trajectory_id: UUID | None = Field(default=None, description="The trajectory it belongs to.")
    mlp_ref: Code | None = Field(
        default=None, description="Registration in VDAB's partner portal MLP (TWE)."
    )


class PlacementExtended(PlacementEvent):
    """The planned end of a placement moved (art. 60 runs until rights are opened)."""

    event_name: ClassVar[str] = "PlacementExtended"
    event_version: ClassVar[int] = 1

    placement_id: UUID
    planned_end: date


class PlacementEnded(PlacementEvent):
    """A placement ended; ``occurred_on`` is the last day worked."""

    event_name: ClassVar[str] = "PlacementEnded"
    event_version: ClassVar[int] = 1

    placement_id: UUID
    reason: PlacementEndReason
    hired_by_kbo: Kbo | None = Field(
        default=None, description="Employer that hired the person, when reason is hired."
    )


class MlpMonthRegistered(PlacementEvent):
    """A TWE month was registered in VDAB's MLP; VDAB pays only if done by month end."""

    event_name: ClassVar[str] = "MlpMonthRegistered"
    event_version: ClassVar[int] = 1

    placement_id: UUID
    month: Month = Field(examples=["2025-03"])
    registered_on: date = Field(description="Day the month was registered in MLP.")


class AftercareStarted(PlacementEvent):
    """Aftercare (nazorg) started, usually after a placement."""

    event_name: ClassVar[str] = "AftercareStarted"
    event_version: ClassVar[int] = 1

    aftercare_id: UUID
    placement_id: UUID | None = None
    planned_until: date | None = None


class AftercareEnded(PlacementEvent):
    """Aftercare ended with an outcome."""

    event_name: ClassVar[str] = "AftercareEnded"
    event_version: ClassVar[int] = 1

    aftercare_id: UUID
    outcome: AftercareOutcome
