"""One command request in, one reply out: office and actor from the transport, then ``handle``."""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from datetime import UTC, datetime
from uuid import UUID

from pydantic import ValidationError

from events.envelope import Actor
from services import access
from services.app import Application
from services.commands import Command
from services.domain import Context
from services.nats_entry.messages import (
    CORRELATION_HEADER,
    ROLE_HEADER,
    USER_HEADER,
    CommandAccepted,
    CommandRefused,
    CommandReply,
)
from services.refusals import Refusal, refusal_of


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CommandService:
    """Translates a request into ``Application.handle``; never raises, always replies."""

    def __init__(
        self,
        app: Application | None,
        offices: Container[str],
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.app = app
        self.offices = offices
        self.clock = clock

    async def execute(
        self, command: Command, office: str, headers: Mapping[str, str] | None
    ) -> CommandReply:
        """Handle ``command`` for ``office`` (the subject's token) as the headers' actor."""
        ctx = self.context(office, headers or {})
        if isinstance(ctx, Refusal):
            return CommandRefused.of(ctx, command.command_id)
        if not access.may_send(ctx.actor.role, command.command_name):
            # The office system names the acting user and role; what is recorded as their
            # act must be an act of that role, as on HTTP.
            return CommandRefused.of(
                Refusal(
                    "forbidden_for_role",
                    f"the role {ctx.actor.role.value} may not send {command.command_name}",
                    ROLE_HEADER,
                ),
                command.command_id,
            )
        if self.app is None:
            raise RuntimeError("this CommandService only documents the commands (no app)")
        try:
            handled = await self.app.handle(command, ctx, authorize=access.check_case_access)
        except Exception as exc:  # every failure becomes a refusal reply
            return CommandRefused.of(refusal_of(exc), command.command_id)
        return CommandAccepted.of(command.command_id, handled)

    def context(self, office: str, headers: Mapping[str, str]) -> Context | Refusal:
        """Who acts for which office, or why the request cannot be attributed."""
        if office not in self.offices:
            return Refusal("unknown_office", f"office {office} is not a known office (NIS code)")
        user, role = headers.get(USER_HEADER), headers.get(ROLE_HEADER)
        if not user or not role:
            return Refusal(
                "missing_actor",
                f"send the acting user in the {USER_HEADER} header and their role in {ROLE_HEADER}",
                USER_HEADER if not user else ROLE_HEADER,
            )
        try:
            actor = Actor.model_validate({"user_id": user, "role": role})
        except ValidationError as exc:
            return _bad_header(exc)
        correlation = headers.get(CORRELATION_HEADER)
        try:
            correlation_id = UUID(correlation) if correlation else None
        except ValueError:
            return Refusal("invalid_header", "not a UUID", CORRELATION_HEADER)
        return Context(
            actor=actor, office_id=office, now=self.clock(), correlation_id=correlation_id
        )


def _bad_header(exc: ValidationError) -> Refusal:
    refusal = refusal_of(exc)
    header = ROLE_HEADER if refusal.field == "role" else USER_HEADER
    return Refusal("invalid_actor", f"{header}: {refusal.problems[0].message}", header)
