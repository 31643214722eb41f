"""Guidance: VDAB registration, counsellors, intake, trajectories, referrals."""

from __future__ import annotations

from uuid import UUID

from events.base import DomainEvent
from events.envelope import EventMeta
from events.guidance import (
    CounselorAssigned,
    CounselorUnassigned,
    IntakeCompleted,
    ReferralMade,
    ReferralOutcomeRecorded,
    TrajectoryEnded,
    TrajectoryStarted,
    VdabRegistrationRecorded,
)
from services.commands.guidance import (
    AssignCounselor,
    CompleteIntake,
    EndTrajectory,
    MakeReferral,
    RecordReferralOutcome,
    RecordVdabRegistration,
    StartTrajectory,
    UnassignCounselor,
)
from services.domain.activities import Assignment, Referral, Trajectory
from services.domain.context import Context
from services.domain.errors import require
from services.domain.handlers import decides, event_from, evolves
from services.domain.marks import Mark
from services.domain.state import CaseState


def known_trajectory(state: CaseState, trajectory_id: UUID | None) -> None:
    require(
        trajectory_id is None or trajectory_id in state.trajectories,
        "unknown_trajectory",
        f"no trajectory {trajectory_id} in this case",
        "trajectory_id",
    )


def _assignment(state: CaseState, role: str, user: str) -> int | None:
    for i, a in enumerate(state.counsellors):
        if a.role == role and a.counselor_user_id == user and a.ended is None:
            return i
    return None


@decides(RecordVdabRegistration)
def vdab(state: CaseState, command: RecordVdabRegistration, ctx: Context) -> list[DomainEvent]:
    return [event_from(VdabRegistrationRecorded, command)]


@decides(AssignCounselor)
def assign(state: CaseState, command: AssignCounselor, ctx: Context) -> list[DomainEvent]:
    require(
        _assignment(state, command.role, command.counselor_user_id) is None,
        "counselor_already_assigned",
        f"{command.counselor_user_id} already has the role {command.role} in this case",
        "counselor_user_id",
    )
    return [event_from(CounselorAssigned, command)]


@decides(UnassignCounselor)
def unassign(state: CaseState, command: UnassignCounselor, ctx: Context) -> list[DomainEvent]:
    require(
        _assignment(state, command.role, command.counselor_user_id) is not None,
        "counselor_not_assigned",
        f"{command.counselor_user_id} does not have the role {command.role} in this case",
        "counselor_user_id",
    )
    return [event_from(CounselorUnassigned, command)]


@decides(CompleteIntake)
def intake(state: CaseState, command: CompleteIntake, ctx: Context) -> list[DomainEvent]:
    return [event_from(IntakeCompleted, command)]


@decides(StartTrajectory)
def start(state: CaseState, command: StartTrajectory, ctx: Context) -> list[DomainEvent]:
    require(
        command.trajectory_id not in state.trajectories,
        "trajectory_exists",
        f"trajectory {command.trajectory_id} was already started",
        "trajectory_id",
    )
    return [event_from(TrajectoryStarted, command)]


@decides(EndTrajectory)
def end(state: CaseState, command: EndTrajectory, ctx: Context) -> list[DomainEvent]:
    require(
        command.trajectory_id in state.open_trajectories(),
        "trajectory_not_open",
        f"trajectory {command.trajectory_id} is not running",
        "trajectory_id",
    )
    return [event_from(TrajectoryEnded, command)]


@decides(MakeReferral)
def refer(state: CaseState, command: MakeReferral, ctx: Context) -> list[DomainEvent]:
    require(
        command.referral_id not in state.referrals,
        "referral_exists",
        f"referral {command.referral_id} was already made",
        "referral_id",
    )
    known_trajectory(state, command.trajectory_id)
    return [event_from(ReferralMade, command)]


@decides(RecordReferralOutcome)
def outcome(state: CaseState, command: RecordReferralOutcome, ctx: Context) -> list[DomainEvent]:
    require(
        command.referral_id in state.referrals,
        "unknown_referral",
        f"no referral {command.referral_id} in this case",
        "referral_id",
    )
    return [event_from(ReferralOutcomeRecorded, command)]


@evolves(VdabRegistrationRecorded)
def vdab_recorded(state: CaseState, event: VdabRegistrationRecorded, meta: EventMeta) -> CaseState:
    return state.add("vdab_records", Mark.of(meta))


@evolves(CounselorAssigned)
def assigned(state: CaseState, event: CounselorAssigned, meta: EventMeta) -> CaseState:
    new = Assignment.of(meta, role=event.role, counselor_user_id=event.counselor_user_id)
    return state.add("counsellors", new)


@evolves(CounselorUnassigned)
def unassigned(state: CaseState, event: CounselorUnassigned, meta: EventMeta) -> CaseState:
    i = _assignment(state, event.role, event.counselor_user_id)
    if i is None:
        return state
    counsellors = list(state.counsellors)
    counsellors[i] = counsellors[i].model_copy(update={"ended": Mark.of(meta)})
    return state.model_copy(update={"counsellors": tuple(counsellors)})


@evolves(IntakeCompleted)
def intake_done(state: CaseState, event: IntakeCompleted, meta: EventMeta) -> CaseState:
    return state.add("intakes", Mark.of(meta))


@evolves(TrajectoryStarted)
def started(state: CaseState, event: TrajectoryStarted, meta: EventMeta) -> CaseState:
    return state.put("trajectories", event.trajectory_id, Trajectory.of(meta, kind=event.kind))


@evolves(TrajectoryEnded)
def ended(state: CaseState, event: TrajectoryEnded, meta: EventMeta) -> CaseState:
    return state.change("trajectories", event.trajectory_id, ended=Mark.of(meta))


@evolves(ReferralMade)
def referred(state: CaseState, event: ReferralMade, meta: EventMeta) -> CaseState:
    return state.put("referrals", event.referral_id, Referral.of(meta, target=event.target))


@evolves(ReferralOutcomeRecorded)
def outcome_recorded(
    state: CaseState, event: ReferralOutcomeRecorded, meta: EventMeta
) -> CaseState:
    found = state.referrals.get(event.referral_id)
    if found is None:
        return state
    return state.change("referrals", event.referral_id, outcomes=(*found.outcomes, Mark.of(meta)))
