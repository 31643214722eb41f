"""The case file itself: transfer to another office, close, reopen, retract an event."""

from __future__ import annotations

from typing import Final

from events.base import DomainEvent
from events.case import CaseClosed, CaseReopened, CaseTransferred, EventRetracted
from events.envelope import EventMeta
from events.privacy import PersonDataErased
from services.commands.case import CloseCase, ReopenCase, RetractEvent, TransferCase
from services.domain.context import Context
from services.domain.errors import refuse, require
from services.domain.handlers import decides, event_from, evolves
from services.domain.records import Closure, Transfer
from services.domain.state import CaseState

NOT_RETRACTABLE: Final = frozenset({EventRetracted.event_name, PersonDataErased.event_name})


@decides(TransferCase)
def transfer(state: CaseState, command: TransferCase, ctx: Context) -> list[DomainEvent]:
    require(
        command.to_office_id != state.office,
        "same_office",
        f"the case already belongs to office {state.office}",
        "to_office_id",
    )
    return [event_from(CaseTransferred, command)]


@decides(CloseCase)
def close(state: CaseState, command: CloseCase, ctx: Context) -> list[DomainEvent]:
    return [event_from(CaseClosed, command)]


@decides(ReopenCase)
def reopen(state: CaseState, command: ReopenCase, ctx: Context) -> list[DomainEvent]:
    require(state.closed, "case_not_closed", "the case is not closed", "case_id")
    return [event_from(CaseReopened, command)]


@decides(RetractEvent)
def retract(state: CaseState, command: RetractEvent, ctx: Context) -> list[DomainEvent]:
    target = command.retracted_event_id
    field = "retracted_event_id"
    require(
        target in state.events,
        "event_not_found",
        f"event {target} is not an event of this case",
        field,
    )
    require(
        target not in state.retracted,
        "event_already_retracted",
        f"event {target} was already retracted",
        field,
    )
    if target in state.superseded:
        refuse(
            "event_already_corrected",
            f"event {target} was replaced by correction {state.superseded[target]}; "
            "retract the correction instead",
            field,
        )
    require(
        state.events[target] not in NOT_RETRACTABLE,
        "event_not_retractable",
        f"a {state.events[target]} event cannot be taken back",
        field,
    )
    return [event_from(EventRetracted, command)]


@evolves(CaseTransferred)
def transferred(state: CaseState, event: CaseTransferred, meta: EventMeta) -> CaseState:
    return state.add("transfers", Transfer.of(meta, to_office_id=event.to_office_id))


@evolves(CaseClosed)
def closed(state: CaseState, event: CaseClosed, meta: EventMeta) -> CaseState:
    return state.add("closures", Closure.of(meta, closed=True))


@evolves(CaseReopened)
def reopened(state: CaseState, event: CaseReopened, meta: EventMeta) -> CaseState:
    return state.add("closures", Closure.of(meta, closed=False))


@evolves(EventRetracted)
def retracted(state: CaseState, event: EventRetracted, meta: EventMeta) -> CaseState:
    target = event.retracted_event_id
    state = state.without(target)
    return state.model_copy(update={"retracted": state.retracted | {target}})
