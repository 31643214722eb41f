"""Events of activation steps: group projects, language courses, training."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from events.base import Code, FreeText, Hours, Month, Personal
from events.common import CatalogueEvent, CefrLevel, MonthlyHours, ProjectCode, TotalHours


class ActivationEvent(CatalogueEvent):
    area: ClassVar[str] = "activation"


class LeaveReason(StrEnum):
    """Why a person stopped an activation step."""

    COMPLETED = "completed"
    TO_WORK = "to_work"
    TO_TRAINING = "to_training"
    PERSONAL_CIRCUMSTANCES = "personal_circumstances"
    DROPPED_OUT = "dropped_out"
    EXCLUDED = "excluded"


class LanguageProvider(StrEnum):
    """Kinds of Dutch-as-a-second-language provider."""

    SNT = "snt"
    LIGO = "ligo"
    CVO = "cvo"
    PRAATTAFEL = "praattafel"
    OTHER = "other"


class TrainingOutcome(StrEnum):
    """How a training ended."""

    CERTIFIED = "certified"
    COMPLETED = "completed"
    STOPPED_FOR_WORK = "stopped_for_work"
    DROPPED_OUT = "dropped_out"


class GroupProjectJoined(ActivationEvent):
    """The person joined a group project of the OCMW."""

    event_name: ClassVar[str] = "GroupProjectJoined"
    event_version: ClassVar[int] = 1

    project: ProjectCode
    hours_per_week: Hours = Field(examples=["8"])


class GroupProjectLeft(ActivationEvent):
    """The person left a group project."""

    event_name: ClassVar[str] = "GroupProjectLeft"
    event_version: ClassVar[int] = 1

    project: ProjectCode
    reason: LeaveReason


class GroupProjectAttendanceRecorded(ActivationEvent):
    """The project leader recorded a month of attendance and observations."""

    event_name: ClassVar[str] = "GroupProjectAttendanceRecorded"
    event_version: ClassVar[int] = 1

    project: ProjectCode
    month: Month = Field(examples=["2025-03"])
    sessions_attended: Annotated[int, Field(ge=0, le=62)]
    sessions_planned: Annotated[int, Field(ge=0, le=62)]
    hours_attended: MonthlyHours = Field(examples=["32"])
    observations: Personal[FreeText] = None


class LanguageCourseEnrolled(ActivationEvent):
    """The person enrolled in a Dutch (NT2) course or conversation table."""

    event_name: ClassVar[str] = "LanguageCourseEnrolled"
    event_version: ClassVar[int] = 1
    date_order: ClassVar[tuple[tuple[str, str], ...]] = (("starts_on", "planned_end"),)

    course_id: UUID
    provider: LanguageProvider
    provider_ref: Code | None = Field(default=None, description="The provider's course code.")
    target_level: CefrLevel = Field(examples=["a2"])
    hours_per_week: Hours = Field(examples=["9"])
    starts_on: date = Field(description="First lesson.")
    planned_end: date | None = Field(default=None, description="Planned last lesson.")


class LanguageCourseCompleted(ActivationEvent):
    """The person finished a language course."""

    event_name: ClassVar[str] = "LanguageCourseCompleted"
    event_version: ClassVar[int] = 1

    course_id: UUID
    level_reached: CefrLevel | None = Field(default=None, examples=["a2"])
    certificate: bool


class LanguageCourseAbandoned(ActivationEvent):
    """The person stopped a language course before the end."""

    event_name: ClassVar[str] = "LanguageCourseAbandoned"
    event_version: ClassVar[int] = 1

    course_id: UUID
    reason: LeaveReason


class TrainingStarted(ActivationEvent):
    """A vocational training started."""

    event_name: ClassVar[str] = "TrainingStarted"
    event_version: ClassVar[int] = 1
    date_order: ClassVar[tuple[tuple[str, str], ...]] = (("starts_on", "planned_end"),)

    training_id: UUID
    provider: Code = Field(examples=["vdab"])
    training_code: Code = Field(description="Provider's training code.", examples=["HEF-01"])
    hours_per_week: Hours = Field(examples=["38"])
    planned_hours: TotalHours | None = Field(default=None, examples=["400"])
    starts_on: date
    planned_end: date | None = None


class TrainingEnded(ActivationEvent):
    """A training ended."""

    event_name: ClassVar[str] = "TrainingEnded"
    event_version: ClassVar[int] = 1

    training_id: UUID
    outcome: TrainingOutcome
    hours_followed: TotalHours | None = Field(default=None, examples=["380"])
