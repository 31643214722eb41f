"""Dispatch of ``decide`` and ``evolve`` to the feature modules; bookkeeping of every event.

Feature modules register one function per command (``@decides``) and one per event
(``@evolves``); importing ``services.domain`` imports them all.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar, get_args

from pydantic import BaseModel

from events.base import DomainEvent
from events.codec import RecordedEvent
from events.envelope import EventMeta
from services.commands import Command
from services.domain.context import Context
from services.domain.rules import check_command
from services.domain.state import Applied, CaseKind, CaseState

C = TypeVar("C", bound=Command)
E = TypeVar("E", bound=DomainEvent)
Decider = Callable[[CaseState, C, Context], list[DomainEvent]]
Evolver = Callable[[CaseState, E, EventMeta], CaseState]

DECIDERS: dict[type[Command], Decider[Any]] = {}
EVOLVERS: dict[str, Evolver[Any]] = {}


def decides(cls: type[C]) -> Callable[[Decider[C]], Decider[C]]:
    def register(fn: Decider[C]) -> Decider[C]:
        if cls in DECIDERS:
            raise ValueError(f"{cls.command_name} is decided twice")
        DECIDERS[cls] = fn
        return fn

    return register


def evolves(cls: type[E]) -> Callable[[Evolver[E]], Evolver[E]]:
    def register(fn: Evolver[E]) -> Evolver[E]:
        if cls.event_name in EVOLVERS:
            raise ValueError(f"{cls.event_name} is evolved twice")
        EVOLVERS[cls.event_name] = fn
        return fn

    return register


def event_from(cls: type[E], command: Command, **fields: Any) -> E:
    """The event ``cls`` with every field it shares with ``command``, plus ``fields``."""
    shared = _shared_fields(cls, type(command))
    if _handed_over(cls, type(command)):
        values = command.__dict__
        data = {name: values[name] for name in shared}
    else:
        data = command.model_dump(include=set(shared))
    data.update(fields)
    return cls.model_validate(data)


@cache
def _shared_fields(event: type[DomainEvent], command: type[Command]) -> frozenset[str]:
    return frozenset(event.model_fields) & frozenset(command.model_fields)


@cache
def _handed_over(event: type[DomainEvent], command: type[Command]) -> bool:
    """Whether the command's values validate into the event as they are, without dumping.

    Dumping changes only nested models (into dicts); where a shared field holds one, the
    command and the event must declare the very same type, so the event takes the
    command's (frozen) instance as it is. Either way the event validates every value.
    """
    for name in _shared_fields(event, command):
        declared = command.model_fields[name].annotation
        if declared != event.model_fields[name].annotation and _holds_model(declared):
            return False
    return True


def _holds_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(arg) for arg in get_args(annotation))


def decide(state: CaseState, command: Command, ctx: Context) -> list[DomainEvent]:
    """The events ``command`` produces on ``state``, or DomainError. Pure: no I/O, no clock.

    The first event is the command's own fact; any others are its consequences (an outflow
    ends the open trajectories and placements). A correction decides on the state without
    the event it replaces.
    """
    decider = DECIDERS.get(type(command))
    if decider is None:
        raise LookupError(f"no decision for command {command.command_name}")
    events = decider(check_command(state, command, ctx), command, ctx)
    names = [e.event_name for e in events]
    if not names or names[0] != command.produces[0] or not set(names) <= set(command.produces):
        raise RuntimeError(f"{command.command_name} produced {names}, declares {command.produces}")
    return events


def evolve(state: CaseState, rec: RecordedEvent) -> CaseState:
    """The state after one recorded event (retractions and corrections take effects away)."""
    meta = rec.meta
    state = _bookkeeping(state, rec)
    replaced = meta.corrects
    if replaced is not None and state.counts(replaced):
        state = state.without(replaced).put("superseded", replaced, meta.event_id)
    evolver = EVOLVERS.get(rec.name)
    if evolver is None:
        raise LookupError(f"no evolve for event {rec.name}")
    return evolver(state, rec.event, meta)


def _bookkeeping(state: CaseState, rec: RecordedEvent) -> CaseState:
    meta = rec.meta
    updates: dict[str, Any] = {"events": {**state.events, meta.event_id: rec.name}}
    if state.kind is None:
        ledger = rec.name == "LapEngagementRegistered"
        updates["kind"] = CaseKind.LEDGER if ledger else CaseKind.PERSON
        updates["origin_office"] = meta.office_id
        updates["opened_by"] = meta.actor
    if meta.causation_id is not None:
        before = state.applied.get(meta.causation_id)
        applied = Applied(
            version=rec.case_version, seq=rec.seq, events=before.events + 1 if before else 1
        )
        updates["applied"] = {**state.applied, meta.causation_id: applied}
    return state.model_copy(update=updates)
