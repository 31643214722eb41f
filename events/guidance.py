"""Events of guidance: VDAB registration, counsellors, intake, trajectories, referrals."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar, Self
from uuid import UUID

from pydantic import Field, model_validator

from events.base import Code, FreeText, Personal
from events.common import CatalogueEvent, CefrLevel


class GuidanceEvent(CatalogueEvent):
    area: ClassVar[str] = "guidance"


class VdabExemption(StrEnum):
    """Why the person need not register with VDAB as a job seeker."""

    HEALTH_OR_EQUITY = "health_or_equity"
    STUDYING = "studying"
    WORKING = "working"
    PENSION_AGE = "pension_age"


class CounselorRole(StrEnum):
    """The role a counsellor takes up in a case."""

    SOCIAL_WORKER = "social_worker"
    TRAJECTORY_COUNSELLOR = "trajectory_counsellor"
    JOB_COACH = "job_coach"
    AFTERCARE_COUNSELLOR = "aftercare_counsellor"


class WorkCapability(StrEnum):
    """Distance to the labour market found at intake."""

    READY_FOR_WORK = "ready_for_work"
    READY_WITH_SUPPORT = "ready_with_support"
    NOT_YET_READY = "not_yet_ready"
    SOCIAL_ACTIVATION_ONLY = "social_activation_only"


class Barrier(StrEnum):
    """Kinds of barrier to work; only ever stored inside a personal field."""

    HEALTH = "health"
    ADDICTION = "addiction"
    DEBTS = "debts"
    HOUSING = "housing"
    CHILDCARE = "childcare"
    MOBILITY = "mobility"
    LANGUAGE = "language"
    DIGITAL_SKILLS = "digital_skills"
    JUSTICE = "justice"


class TrajectoryKind(StrEnum):
    """Kind of activation trajectory."""

    WERK = "werk"
    SOCIALE_ACTIVERING = "sociale_activering"
    TAAL = "taal"


class TrajectoryEndReason(StrEnum):
    """Why a trajectory ended."""

    GOAL_REACHED = "goal_reached"
    SWITCHED_KIND = "switched_kind"
    OUTFLOW = "outflow"
    DROPPED_OUT = "dropped_out"
    NOT_FEASIBLE = "not_feasible"
    RIGHT_ENDED = "right_ended"
    TRANSFERRED = "transferred"


class ReferralTarget(StrEnum):
    """Where a person is referred to."""

    VDAB_WORK_WELFARE_MEDIATOR = "vdab_work_welfare_mediator"
    ESF_GROUP_TRAJECTORY = "esf_group_trajectory"
    CAW = "caw"
    GTB_ICF = "gtb_icf"
    DISABILITY_ALLOWANCE = "disability_allowance"
    DEBT_COUNSELLING = "debt_counselling"
    VDAB_JOB_SEEKER_SERVICES = "vdab_job_seeker_services"


class ReferralOutcome(StrEnum):
    """What came of a referral."""

    STARTED = "started"
    REFUSED_BY_SERVICE = "refused_by_service"
    DECLINED_BY_PERSON = "declined_by_person"
    NO_SHOW = "no_show"
    COMPLETED = "completed"


class VdabRegistrationRecorded(GuidanceEvent):
    """The person registered with VDAB as a job seeker, or is exempt from it."""

    event_name: ClassVar[str] = "VdabRegistrationRecorded"
    event_version: ClassVar[int] = 1

    registered_on: date | None = Field(default=None, description="Registration date at VDAB.")
    exemption: VdabExemption | None = Field(
        default=None, description="Why registration is not required; give this or registered_on."
    )

    @model_validator(mode="after")
    def _date_xor_exemption(self) -> Self:
        if (self.registered_on is None) == (self.exemption is None):
            raise ValueError("give exactly one of registered_on and exemption")
        return self


class CounselorAssigned(GuidanceEvent):
    """A counsellor takes up a role in the case from ``assigned_from``."""

    event_name: ClassVar[str] = "CounselorAssigned"
    event_version: ClassVar[int] = 1

    role: CounselorRole
    counselor_user_id: Code = Field(description="User id of the counsellor.", examples=["u-1042"])
    assigned_from: date


class CounselorUnassigned(GuidanceEvent):
    """A counsellor leaves a role in the case after ``assigned_until``."""

    event_name: ClassVar[str] = "CounselorUnassigned"
    event_version: ClassVar[int] = 1

    role: CounselorRole
    counselor_user_id: Code = Field(examples=["u-1042"])
    assigned_until: date


class IntakeCompleted(GuidanceEvent):
    """The activation intake mapped competences, language level and barriers."""

    event_name: ClassVar[str] = "IntakeCompleted"
    event_version: ClassVar[int] = 1

    competences: Annotated[tuple[Code, ...], Field(max_length=50)] = Field(
        default=(),
        description="Competence codes (e.g. from the VDAB competence standard).",
        examples=[["forklift-license", "customer-service"]],
    )
    dutch_level: CefrLevel | None = Field(default=None, description="Dutch level found at intake.")
    work_capability: WorkCapability
    barriers: Personal[tuple[Barrier, ...]] = Field(
        default=None, description="Barriers to work (may reveal GDPR art. 9/10 data)."
    )
    notes: Personal[FreeText] = None


class TrajectoryStarted(GuidanceEvent):
    """An activation trajectory started."""

    event_name: ClassVar[str] = "TrajectoryStarted"
    event_version: ClassVar[int] = 1

    trajectory_id: UUID = Field(description="Id of the trajectory; later events link to it.")
    kind: TrajectoryKind = Field(examples=["werk"])


class TrajectoryEnded(GuidanceEvent):
    """An activation trajectory ended."""

    event_name: ClassVar[str] = "TrajectoryEnded"
    event_version: ClassVar[int] = 1

    trajectory_id: UUID
    reason: TrajectoryEndReason


class ReferralMade(GuidanceEvent):
    """The person was referred to another service."""

    event_name: ClassVar[str] = "ReferralMade"
    event_version: ClassVar[int] = 1

    referral_id: UUID
    target: ReferralTarget
    trajectory_id: UUID | None = None


class ReferralOutcomeRecorded(GuidanceEvent):
    """What came of a referral."""

    event_name: ClassVar[str] = "ReferralOutcomeRecorded"
    event_version: ClassVar[int] = 1

    referral_id: UUID
    outcome: ReferralOutcome
