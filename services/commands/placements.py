"""Commands of placements and aftercare."""

from __future__ import annotations

from typing import ClassVar, Self
from uuid import UUID

from pydantic import model_validator

from events.base import Code, Hours, Month
from events.placements import AftercareOutcome, ContractType, PlacementEndReason, PlacementType
from services.commands.base import Command, KboIn, SaneDate


class StartPlacement(Command):
    """Start a placement (TWE/art. 60, art. 61, stage, IBO, regular, maatwerk)."""

    command_name: ClassVar[str] = "StartPlacement"
    produces: ClassVar[tuple[str, ...]] = ("PlacementStarted",)
    date_order: ClassVar[tuple[tuple[str, str], ...]] = (
        ("agreement_signed_on", "starts_on"),
        ("starts_on", "planned_end"),
    )

    placement_id: UUID
    placement_type: PlacementType
    employer_kbo: KboIn
    placed_with_kbo: KboIn | None = None
    hours_per_week: Hours
    contract: ContractType
    agreement_signed_on: SaneDate | None = None
    starts_on: SaneDate
    planned_end: SaneDate | None = None
    trajectory_id: UUID | None = None
    mlp_ref: Code | None = None


class ExtendPlacement(Command):
    """Move the planned end of a placement."""

    command_name: ClassVar[str] = "ExtendPlacement"
    produces: ClassVar[tuple[str, ...]] = ("PlacementExtended",)

    placement_id: UUID
    planned_end: SaneDate


class EndPlacement(Command):
    """End a placement; ``occurred_on`` is the last day worked."""

    command_name: ClassVar[str] = "EndPlacement"
    produces: ClassVar[tuple[str, ...]] = ("PlacementEnded",)

    placement_id: UUID
    reason: PlacementEndReason
    hired_by_kbo: KboIn | None = None

    @model_validator(mode="after")
    def _hired_by_only_when_hired(self) -> Self:
        if self.hired_by_kbo is not None and self.reason is not PlacementEndReason.HIRED:
            raise ValueError("hired_by_kbo is only allowed when reason is 'hired'")
        return self


class RecordMlpRegistration(Command):
    """Record that a TWE month was registered in VDAB's MLP."""

    command_name: ClassVar[str] = "RecordMlpRegistration"
    produces: ClassVar[tuple[str, ...]] = ("MlpMonthRegistered",)

    placement_id: UUID
    month: Month
    registered_on: SaneDate


class StartAftercare(Command):
    """Start aftercare (nazorg)."""

    command_name: ClassVar[str] = "StartAftercare"
    produces: ClassVar[tuple[str, ...]] = ("AftercareStarted",)

    aftercare_id: UUID
    placement_id: UUID | None = None
    planned_until: SaneDate | None = None


class EndAftercare(Command):
    """End aftercare with its outcome."""

    command_name: ClassVar[str] = "EndAftercare"
    produces: ClassVar[tuple[str, ...]] = ("AftercareEnded",)

    aftercare_id: UUID
    outcome: AftercareOutcome
