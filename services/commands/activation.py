"""Commands of activation steps: group projects, language courses, training."""

from __future__ import annotations

from typing import Annotated, ClassVar, Self
from uuid import UUID

from pydantic import Field, model_validator

from events.activation import LanguageProvider, LeaveReason, TrainingOutcome
from events.base import Code, Hours, Month, Personal
from events.common import CefrLevel, MonthlyHours, ProjectCode, TotalHours
from services.commands.base import Command, NoteText, PersonalCommand, SaneDate

Sessions = Annotated[int, Field(strict=True, ge=0, le=62)]


class JoinGroupProject(Command):
    """Record that the person joined a group project."""

    command_name: ClassVar[str] = "JoinGroupProject"
    produces: ClassVar[tuple[str, ...]] = ("GroupProjectJoined",)

    project: ProjectCode
    hours_per_week: Hours


class LeaveGroupProject(Command):
    """Record that the person left a group project."""

    command_name: ClassVar[str] = "LeaveGroupProject"
    produces: ClassVar[tuple[str, ...]] = ("GroupProjectLeft",)

    project: ProjectCode
    reason: LeaveReason


class RecordGroupProjectAttendance(PersonalCommand):
    """Record one month of attendance in a group project."""

    command_name: ClassVar[str] = "RecordGroupProjectAttendance"
    produces: ClassVar[tuple[str, ...]] = ("GroupProjectAttendanceRecorded",)

    project: ProjectCode
    month: Month
    sessions_attended: Sessions
    sessions_planned: Sessions
    hours_attended: MonthlyHours
    observations: Personal[NoteText] = None

    @model_validator(mode="after")
    def _attended_within_planned(self) -> Self:
        if self.sessions_attended > self.sessions_planned:
            raise ValueError("sessions_attended must not exceed sessions_planned")
        return self


class EnrolInLanguageCourse(Command):
    """Enrol the person in a Dutch course or conversation table."""

    command_name: ClassVar[str] = "EnrolInLanguageCourse"
    produces: ClassVar[tuple[str, ...]] = ("LanguageCourseEnrolled",)
    date_order: ClassVar[tuple[tuple[str, str], ...]] = (("starts_on", "planned_end"),)

    course_id: UUID
    provider: LanguageProvider
    provider_ref: Code | None = None
    target_level: CefrLevel
    hours_per_week: Hours
    starts_on: SaneDate
    planned_end: SaneDate | None = None


class CompleteLanguageCourse(Command):
    """Record that the person finished a language course."""

    command_name: ClassVar[str] = "CompleteLanguageCourse"
    produces: ClassVar[tuple[str, ...]] = ("LanguageCourseCompleted",)

    course_id: UUID
    level_reached: CefrLevel | None = None
    certificate: bool


class AbandonLanguageCourse(Command):
    """Record that the person stopped a language course early."""

    command_name: ClassVar[str] = "AbandonLanguageCourse"
    produces: ClassVar[tuple[str, ...]] = ("LanguageCourseAbandoned",)

    course_id: UUID
    reason: LeaveReason


class StartTraining(Command):
    """Record the start of a vocational training."""

    command_name: ClassVar[str] = "StartTraining"
    produces: ClassVar[tuple[str, ...]] = ("TrainingStarted",)
    date_order: ClassVar[tuple[tuple[str, str], ...]] = (("starts_on", "planned_end"),)

    training_id: UUID
    provider: Code
    training_code: Code
    hours_per_week: Hours
    planned_hours: TotalHours | None = None
    starts_on: SaneDate
    planned_end: SaneDate | None = None


class EndTraining(Command):
    """Record the end of a training."""

    command_name: ClassVar[str] = "EndTraining"
    produces: ClassVar[tuple[str, ...]] = ("TrainingEnded",)

    training_id: UUID
    outcome: TrainingOutcome
    hours_followed: TotalHours | None = None
