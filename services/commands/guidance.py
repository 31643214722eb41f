"""Commands of guidance: VDAB registration, counsellors, intake, trajectories, referrals."""

from __future__ import annotations

from typing import Annotated, ClassVar, Self
from uuid import UUID

from pydantic import Field, model_validator

from events.base import Code, Personal
from events.common import CefrLevel
from events.guidance import (
    Barrier,
    CounselorRole,
    ReferralOutcome,
    ReferralTarget,
    TrajectoryEndReason,
    TrajectoryKind,
    VdabExemption,
    WorkCapability,
)
from services.commands.base import Command, NoteText, PersonalCommand, PersonalIn, SaneDate


class RecordVdabRegistration(Command):
    """Record the VDAB job-seeker registration, or the exemption from it."""

    command_name: ClassVar[str] = "RecordVdabRegistration"
    produces: ClassVar[tuple[str, ...]] = ("VdabRegistrationRecorded",)

    registered_on: SaneDate | None = None
    exemption: VdabExemption | None = None

    @model_validator(mode="after")
    def _date_xor_exemption(self) -> Self:
        if (self.registered_on is None) == (self.exemption is None):
            raise ValueError("give exactly one of registered_on and exemption")
        return self


class AssignCounselor(Command):
    """Give a counsellor a role in the case."""

    command_name: ClassVar[str] = "AssignCounselor"
    produces: ClassVar[tuple[str, ...]] = ("CounselorAssigned",)

    role: CounselorRole
    counselor_user_id: Code
    assigned_from: SaneDate


class UnassignCounselor(Command):
    """Take a counsellor off a role in the case."""

    command_name: ClassVar[str] = "UnassignCounselor"
    produces: ClassVar[tuple[str, ...]] = ("CounselorUnassigned",)

    role: CounselorRole
    counselor_user_id: Code
    assigned_until: SaneDate


class CompleteIntake(PersonalCommand):
    """Record the activation intake."""

    command_name: ClassVar[str] = "CompleteIntake"
    produces: ClassVar[tuple[str, ...]] = ("IntakeCompleted",)

    competences: Annotated[tuple[Code, ...], Field(max_length=50)] = ()
    dutch_level: CefrLevel | None = None
    work_capability: WorkCapability
    barriers: PersonalIn[Annotated[tuple[Barrier, ...], Field(max_length=20)]] = Field(
        description="Barriers found; empty if none."
    )
    notes: Personal[NoteText] = None


class StartTrajectory(Command):
    """Start an activation trajectory."""

    command_name: ClassVar[str] = "StartTrajectory"
    produces: ClassVar[tuple[str, ...]] = ("TrajectoryStarted",)

    trajectory_id: UUID
    kind: TrajectoryKind


class EndTrajectory(Command):
    """End an activation trajectory."""

    command_name: ClassVar[str] = "EndTrajectory"
    produces: ClassVar[tuple[str, ...]] = ("TrajectoryEnded",)

    trajectory_id: UUID
    reason: TrajectoryEndReason


class MakeReferral(Command):
    """Refer the person to another service."""

    command_name: ClassVar[str] = "MakeReferral"
    produces: ClassVar[tuple[str, ...]] = ("ReferralMade",)

    referral_id: UUID
    target: ReferralTarget
    trajectory_id: UUID | None = None


class RecordReferralOutcome(Command):
    """Record what came of a referral."""

    command_name: ClassVar[str] = "RecordReferralOutcome"
    produces: ClassVar[tuple[str, ...]] = ("ReferralOutcomeRecorded",)

    referral_id: UUID
    outcome: ReferralOutcome
