"""Activation steps: group projects, language courses, vocational training."""

from __future__ import annotations

from uuid import UUID

from events.activation import (
    GroupProjectAttendanceRecorded,
    GroupProjectJoined,
    GroupProjectLeft,
    LanguageCourseAbandoned,
    LanguageCourseCompleted,
    LanguageCourseEnrolled,
    TrainingEnded,
    TrainingStarted,
)
from events.base import DomainEvent
from events.envelope import EventMeta
from services.commands.activation import (
    AbandonLanguageCourse,
    CompleteLanguageCourse,
    EndTraining,
    EnrolInLanguageCourse,
    JoinGroupProject,
    LeaveGroupProject,
    RecordGroupProjectAttendance,
    StartTraining,
)
from services.domain.activities import Activity, Membership
from services.domain.context import Context
from services.domain.errors import require
from services.domain.handlers import decides, event_from, evolves
from services.domain.marks import Mark
from services.domain.state import CaseState


def _membership(state: CaseState, project: str) -> int | None:
    """Index of the person's current membership of ``project``, if any."""
    for i, m in enumerate(state.memberships):
        if m.project == project and m.left is None:
            return i
    return None


def _running(activities: dict[UUID, Activity], key: UUID) -> bool:
    found = activities.get(key)
    return found is not None and found.finished is None


@decides(JoinGroupProject)
def join(state: CaseState, command: JoinGroupProject, ctx: Context) -> list[DomainEvent]:
    require(
        _membership(state, command.project) is None,
        "already_in_group_project",
        f"the person already takes part in {command.project}",
        "project",
    )
    return [event_from(GroupProjectJoined, command)]


@decides(LeaveGroupProject)
def leave(state: CaseState, command: LeaveGroupProject, ctx: Context) -> list[DomainEvent]:
    require(
        _membership(state, command.project) is not None,
        "not_in_group_project",
        f"the person does not take part in {command.project}",
        "project",
    )
    return [event_from(GroupProjectLeft, command)]


@decides(RecordGroupProjectAttendance)
def attendance(
    state: CaseState, command: RecordGroupProjectAttendance, ctx: Context
) -> list[DomainEvent]:
    require(
        any(m.project == command.project for m in state.memberships),
        "not_in_group_project",
        f"the person never joined {command.project}",
        "project",
    )
    return [event_from(GroupProjectAttendanceRecorded, command)]


@decides(EnrolInLanguageCourse)
def enrol(state: CaseState, command: EnrolInLanguageCourse, ctx: Context) -> list[DomainEvent]:
    require(
        command.course_id not in state.courses,
        "course_exists",
        f"course {command.course_id} was already recorded",
        "course_id",
    )
    return [event_from(LanguageCourseEnrolled, command)]


def _course_running(state: CaseState, course_id: UUID) -> None:
    require(
        _running(state.courses, course_id),
        "course_not_running",
        f"the person is not following course {course_id}",
        "course_id",
    )


@decides(CompleteLanguageCourse)
def complete(state: CaseState, command: CompleteLanguageCourse, ctx: Context) -> list[DomainEvent]:
    _course_running(state, command.course_id)
    return [event_from(LanguageCourseCompleted, command)]


@decides(AbandonLanguageCourse)
def abandon(state: CaseState, command: AbandonLanguageCourse, ctx: Context) -> list[DomainEvent]:
    _course_running(state, command.course_id)
    return [event_from(LanguageCourseAbandoned, command)]


@decides(StartTraining)
def start_training(state: CaseState, command: StartTraining, ctx: Context) -> list[DomainEvent]:
    require(
        command.training_id not in state.trainings,
        "training_exists",
        f"training {command.training_id} was already recorded",
        "training_id",
    )
    return [event_from(TrainingStarted, command)]


@decides(EndTraining)
def end_training(state: CaseState, command: EndTraining, ctx: Context) -> list[DomainEvent]:
    require(
        _running(state.trainings, command.training_id),
        "training_not_running",
        f"the person is not following training {command.training_id}",
        "training_id",
    )
    return [event_from(TrainingEnded, command)]


@evolves(GroupProjectJoined)
def joined(state: CaseState, event: GroupProjectJoined, meta: EventMeta) -> CaseState:
    return state.add("memberships", Membership.of(meta, project=event.project))


@evolves(GroupProjectLeft)
def left(state: CaseState, event: GroupProjectLeft, meta: EventMeta) -> CaseState:
    i = _membership(state, event.project)
    if i is None:
        return state
    memberships = list(state.memberships)
    memberships[i] = memberships[i].model_copy(update={"left": Mark.of(meta)})
    return state.model_copy(update={"memberships": tuple(memberships)})


@evolves(GroupProjectAttendanceRecorded)
def attended(state: CaseState, event: GroupProjectAttendanceRecorded, meta: EventMeta) -> CaseState:
    return state


@evolves(LanguageCourseEnrolled)
def enrolled(state: CaseState, event: LanguageCourseEnrolled, meta: EventMeta) -> CaseState:
    return state.put("courses", event.course_id, Activity.of(meta))


@evolves(LanguageCourseCompleted)
def course_completed(
    state: CaseState, event: LanguageCourseCompleted, meta: EventMeta
) -> CaseState:
    return state.change("courses", event.course_id, finished=Mark.of(meta))


@evolves(LanguageCourseAbandoned)
def course_abandoned(
    state: CaseState, event: LanguageCourseAbandoned, meta: EventMeta
) -> CaseState:
    return state.change("courses", event.course_id, finished=Mark.of(meta))


@evolves(TrainingStarted)
def training_started(state: CaseState, event: TrainingStarted, meta: EventMeta) -> CaseState:
    return state.put("trainings", event.training_id, Activity.of(meta))


@evolves(TrainingEnded)
def training_ended(state: CaseState, event: TrainingEnded, meta: EventMeta) -> CaseState:
    return state.change("trainings", event.training_id, finished=Mark.of(meta))
