"""The headers of a command request and the JSON replies: accepted or refused."""

from __future__ import annotations

from typing import Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.app import Handled
from services.refusals import Refusal

USER_HEADER: Final = "Doorstroom-User"
ROLE_HEADER: Final = "Doorstroom-Role"
CORRELATION_HEADER: Final = "Doorstroom-Correlation-Id"


class _Reply(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CommandAccepted(_Reply):
    """The command's events are stored (or were stored before: a retry stores nothing)."""

    status: Literal["accepted"] = "accepted"
    command_id: UUID = Field(description="The command's idempotency key, as sent.")
    case_id: UUID = Field(description="The case the command was recorded on.")
    case_version: int = Field(
        ge=1, description="The case's version after the command (its last event's).", examples=[7]
    )
    stream_seq: int = Field(
        ge=1, description="JetStream sequence of the command's last event.", examples=[1042]
    )
    event_ids: list[UUID] = Field(description="Ids of the events the command produced.")
    duplicate: bool = Field(
        default=False, description="True when this command id was stored before: nothing new."
    )

    @classmethod
    def of(cls, command_id: UUID, handled: Handled) -> CommandAccepted:
        return cls(
            command_id=command_id,
            case_id=handled.case_id,
            case_version=handled.case_version,
            stream_seq=handled.last_seq,
            event_ids=list(handled.event_ids),
            duplicate=handled.duplicate,
        )


class ProblemOut(_Reply):
    """One thing wrong with the input; the value sent is never repeated."""

    field: str | None = Field(examples=["employer_kbo"])
    message: str = Field(examples=["not a valid KBO number: the check digits do not match"])


class CommandRefused(_Reply):
    """Nothing was stored. ``code`` is stable; ``message`` explains it to the caseworker."""

    status: Literal["refused"] = "refused"
    command_id: UUID | None = Field(
        default=None, description="The command's idempotency key, when the body could be read."
    )
    code: str = Field(
        description="Stable refusal code: a domain rule (e.g. no_open_trajectory), or "
        "invalid_command, missing_actor, unknown_office, concurrent_write, internal_error.",
        examples=["no_open_trajectory"],
    )
    message: str = Field(examples=["start a trajectory first"])
    field: str | None = Field(default=None, description="The field concerned, if any.")
    problems: list[ProblemOut] = Field(
        default_factory=list, description="Each validation problem (invalid_command only)."
    )

    @classmethod
    def of(cls, refusal: Refusal, command_id: UUID | None = None) -> CommandRefused:
        return cls(
            command_id=command_id,
            code=refusal.code,
            message=refusal.message,
            field=refusal.field,
            problems=[ProblemOut(field=p.field, message=p.message) for p in refusal.problems],
        )


CommandReply = CommandAccepted | CommandRefused
