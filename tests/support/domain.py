"""Given/when/then on the pure domain: commands run through decide and evolve, no server."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, Final, TypeVar

import pytest

from events.base import DomainEvent, Role
from events.codec import RecordedEvent
from events.envelope import Actor, EvidenceRef
from services.app import drafts
from services.commands import Command
from services.commands.aid import ReceiveAidRequest, RegisterPerson
from services.commands.gpmi import SignGpmi
from services.commands.guidance import StartTrajectory
from services.commands.rights import GrantLeefloon
from services.domain import CaseState, Context, DomainError, decide, evolve
from tests.fixtures.examples import example_body, fixed_id

C = TypeVar("C", bound=Command)

OFFICE: Final = "31004"
OTHER_OFFICE: Final = "11016"
NOW: Final = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
DAY: Final = date(2025, 3, 3)
ACTOR: Final = Actor(user_id="u-1042", role=Role.SOCIAL_WORKER)
GRANT: Final = uuid.UUID(fixed_id("grant"))
TRAJECTORY: Final = uuid.UUID(fixed_id("trajectory_id"))
PLACEMENT: Final = uuid.UUID(fixed_id("placement_id"))
GPMI: Final = uuid.UUID(fixed_id("gpmi_id"))
AGREEMENT: Final = uuid.UUID(fixed_id("agreement_id"))
WARNING: Final = uuid.UUID(fixed_id("warning_id"))
CLAIM: Final = uuid.UUID(fixed_id("claim_id"))


def context(office: str = OFFICE, **kw: Any) -> Context:
    return Context(actor=ACTOR, office_id=office, now=kw.pop("now", NOW), **kw)


def event_ref(event_id: uuid.UUID) -> dict[str, str]:
    return EvidenceRef(kind="event", ref=str(event_id)).model_dump()


class Case:
    """One case under test; ``given`` records commands, ``when``/``refused`` decide one more."""

    def __init__(self, case_id: uuid.UUID | None = None, office: str = OFFICE) -> None:
        self.case_id = case_id or uuid.uuid4()
        self.office = office
        self.state = CaseState(case_id=self.case_id)
        self.recorded: list[RecordedEvent] = []
        self.commands: list[Command] = []

    def cmd(self, cls: type[C], **fields: Any) -> C:
        """A valid ``cls`` for this case: the example body, a fresh command id, ``fields``."""
        base = {"command_id": uuid.uuid4(), "case_id": self.case_id, "occurred_on": DAY}
        base["evidence"] = []
        body = example_body(cls, **{**base, **fields})
        return cls.model_validate(body)

    def given(self, *commands: Command, office: str | None = None) -> Case:
        for command in commands:
            self.record(command, office=office)
        return self

    def record(
        self, command: Command, office: str | None = None, **ctx_fields: Any
    ) -> list[RecordedEvent]:
        ctx = context(office or self.office, **ctx_fields)
        self.commands.append(command)
        new = []
        for draft in drafts(command, ctx, decide(self.state, command, ctx)):
            rec = RecordedEvent(
                meta=draft.meta,
                event=draft.event,
                stored_type=draft.event.stored_type(),
                case_version=len(self.recorded) + 1,
                prev_hash="",
                hash="",
                seq=1000 + len(self.recorded),
            )
            self.state = evolve(self.state, rec)
            self.recorded.append(rec)
            new.append(rec)
        return new

    def last_id(self, event_name: str | None = None) -> uuid.UUID:
        """Id of the last recorded event (of ``event_name``)."""
        for rec in reversed(self.recorded):
            if event_name is None or rec.name == event_name:
                return rec.meta.event_id
        raise LookupError(event_name)

    def when(self, command: Command, office: str | None = None, **ctx: Any) -> list[DomainEvent]:
        return decide(self.state, command, context(office or self.office, **ctx))

    def refused(self, command: Command, office: str | None = None, **ctx: Any) -> DomainError:
        with pytest.raises(DomainError) as refusal:
            self.when(command, office, **ctx)
        return refusal.value

    # --- common histories ---------------------------------------------------------------

    def opened(self) -> Case:
        return self.given(self.cmd(ReceiveAidRequest), self.cmd(RegisterPerson))

    def granted(self, **fields: Any) -> Case:
        grant = {"decision_id": GRANT, "effective_from": DAY, "bcsd_session_on": DAY}
        grant["effective_until"] = None
        return self.opened().given(self.cmd(GrantLeefloon, **{**grant, **fields}))

    def in_trajectory(self) -> Case:
        return self.granted().given(self.cmd(StartTrajectory, trajectory_id=TRAJECTORY))

    def with_gpmi(self, **fields: Any) -> Case:
        return self.in_trajectory().given(self.cmd(SignGpmi, gpmi_id=GPMI, **fields))


def names(events: list[DomainEvent]) -> list[str]:
    return [e.event_name for e in events]
