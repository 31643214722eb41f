"""Aftercare (nazorg): it follows a placement, and ends with an outcome."""

from __future__ import annotations

from events.base import DomainEvent
from events.envelope import EventMeta
from events.placements import AftercareEnded, AftercareStarted
from services.commands.placements import EndAftercare, StartAftercare
from services.domain.activities import Aftercare
from services.domain.context import Context
from services.domain.errors import require
from services.domain.handlers import decides, event_from, evolves
from services.domain.marks import Mark
from services.domain.state import CaseState


@decides(StartAftercare)
def start(state: CaseState, command: StartAftercare, ctx: Context) -> list[DomainEvent]:
    require(
        command.aftercare_id not in state.aftercare,
        "aftercare_exists",
        f"aftercare {command.aftercare_id} was already started",
        "aftercare_id",
    )
    started = {k: p for k, p in state.placements.items() if p.starts_on <= command.occurred_on}
    named = command.placement_id
    if named is not None:
        require(
            named in started,
            "aftercare_without_placement",
            f"placement {named} had not started by {command.occurred_on}",
            "placement_id",
        )
    else:
        require(
            bool(started),
            "aftercare_without_placement",
            "aftercare follows a placement, and this case has none",
            "placement_id",
        )
        named = max(started, key=lambda k: started[k].starts_on)
    return [event_from(AftercareStarted, command, placement_id=named)]


@decides(EndAftercare)
def end(state: CaseState, command: EndAftercare, ctx: Context) -> list[DomainEvent]:
    found = state.aftercare.get(command.aftercare_id)
    require(
        found is not None and found.ended is None,
        "aftercare_not_running",
        f"aftercare {command.aftercare_id} is not running",
        "aftercare_id",
    )
    return [event_from(AftercareEnded, command)]


@evolves(AftercareStarted)
def started(state: CaseState, event: AftercareStarted, meta: EventMeta) -> CaseState:
    aftercare = Aftercare.of(meta, placement_id=event.placement_id)
    return state.put("aftercare", event.aftercare_id, aftercare)


@evolves(AftercareEnded)
def ended(state: CaseState, event: AftercareEnded, meta: EventMeta) -> CaseState:
    return state.change("aftercare", event.aftercare_id, ended=Mark.of(meta))
