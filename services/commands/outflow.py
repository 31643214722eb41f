"""Commands of outflow and employment checks."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from events.base import Hours
from events.outflow import EmploymentContract, OutflowReason, VerificationSource
from services.commands.base import Command, KboIn, SaneDate


class RecordOutflow(Command):
    """Record that the person left the (equivalent) leefloon.

    Running placements and open trajectories end with it (PlacementEnded, TrajectoryEnded).
    """

    command_name: ClassVar[str] = "RecordOutflow"
    produces: ClassVar[tuple[str, ...]] = ("OutflowRecorded", "PlacementEnded", "TrajectoryEnded")

    reason: OutflowReason
    outflow_on: SaneDate
    placement_id: UUID | None = None


class VerifyEmployment(Command):
    """Record an employment check (Dimona, DmfA, employer...)."""

    command_name: ClassVar[str] = "VerifyEmployment"
    produces: ClassVar[tuple[str, ...]] = ("EmploymentVerified",)

    source: VerificationSource
    employed: bool
    contract_type: EmploymentContract | None = None
    employer_kbo: KboIn | None = None
    employed_since: SaneDate | None = None
    hours_per_week: Hours | None = None
