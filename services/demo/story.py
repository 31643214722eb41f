"""One demo case as dated commands with deterministic ids, cut at the end of the demo period."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final, TypeVar
from uuid import UUID, uuid5

from events.base import Role
from events.envelope import Actor
from services.commands import Command, PersonalCommand
from services.domain import derived_event_id
from services.domain.deadlines import add_months

C = TypeVar("C", bound=Command)

NAMESPACE: Final = UUID("5b0f3c64-8f0a-4c5e-9d7e-3c1d2a4b6e01")
DEMO_START: Final = date(2024, 5, 1)
DEMO_END: Final = date(2025, 11, 30)
"""The demo's history ends here: later steps of a story are not recorded (cases stay open)."""


@dataclass(frozen=True, slots=True)
class Step:
    on: date
    order: int
    command: Command
    actor: Actor


class Story:
    """The commands of one case. Ids derive from the office, the case key and a step key,
    so the same story always yields the same commands (a second run stores nothing)."""

    def __init__(self, nis: str, key: str) -> None:
        self.nis = nis
        self.case_id = uuid5(NAMESPACE, f"{nis}/{key}")
        self.person_ref = uuid5(self.case_id, "person")
        self.steps: list[Step] = []

    def id(self, key: str) -> UUID:
        return uuid5(self.case_id, key)

    def add(self, key: str, cls: type[C], on: date, actor: Actor, **fields: Any) -> UUID:
        """Record ``cls`` on ``on``; returns the id of the event it will produce first."""
        command_id = self.id(f"command/{key}")
        data = {"command_id": command_id, "case_id": self.case_id, "occurred_on": on, **fields}
        if issubclass(cls, PersonalCommand):
            data.setdefault("person_ref", self.person_ref)
        self.steps.append(Step(on, len(self.steps), cls.model_validate(data), actor))
        return derived_event_id(command_id, 0)

    def last_on(self, *, excluding: tuple[type[Command], ...] = ()) -> date:
        return max(s.on for s in self.steps if not isinstance(s.command, excluding))

    def commands(self, until: date) -> list[tuple[Command, Actor]]:
        """The commands up to ``until``, by business date (then in the order written)."""
        steps = sorted(self.steps, key=lambda s: (s.on, s.order))
        return [(s.command, s.actor) for s in steps if s.on <= until]


def evidence(*event_ids: UUID) -> list[dict[str, str]]:
    return [{"kind": "event", "ref": str(e)} for e in event_ids]


def months(first: date, last: date) -> Iterator[date]:
    """The first day of every month from ``first``'s month through ``last``'s."""
    month = first.replace(day=1)
    while month <= last:
        yield month
        month = add_months(month, 1)


def month_end(month: date) -> date:
    return add_months(month.replace(day=1), 1) - timedelta(days=1)


def days(n: int) -> timedelta:
    return timedelta(days=n)


@dataclass(frozen=True)
class Staff:
    """The office's users by role (ids only: events never carry names of staff)."""

    nis: str
    social_workers: int
    counsellors: int
    counsellor_role: str

    def actor(self, role: Role, number: int = 1) -> Actor:
        return Actor(user_id=f"u-{self.nis}-{role.value.replace('_', '-')}-{number:02d}", role=role)
