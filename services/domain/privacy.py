"""Data-subject rights: erasure requested, deferred while retention lasts, performed."""

from __future__ import annotations

from events.base import DomainEvent
from events.envelope import EventMeta
from events.privacy import ErasureDeferred, ErasureRequested, PersonDataErased
from services.commands.privacy import DeferErasure, ErasePersonData, RequestErasure
from services.domain.context import Context
from services.domain.errors import refuse, require
from services.domain.handlers import decides, event_from, evolves
from services.domain.marks import Mark
from services.domain.records import Deferral, Person
from services.domain.state import CaseState


def _not_erased(state: CaseState) -> Person:
    person = state.person
    if person is None:
        refuse("person_not_registered", "register the person first", "person_ref")
    require(
        person.erased is None,
        "person_already_erased",
        "the person's data were already erased",
        "person_ref",
    )
    return person


@decides(RequestErasure)
def request(state: CaseState, command: RequestErasure, ctx: Context) -> list[DomainEvent]:
    _not_erased(state)
    return [event_from(ErasureRequested, command)]


@decides(DeferErasure)
def defer(state: CaseState, command: DeferErasure, ctx: Context) -> list[DomainEvent]:
    person = _not_erased(state)
    require(
        bool(person.erasure_requests),
        "no_erasure_request",
        "there is no erasure request to defer",
        "person_ref",
    )
    return [event_from(ErasureDeferred, command)]


@decides(ErasePersonData)
def erase(state: CaseState, command: ErasePersonData, ctx: Context) -> list[DomainEvent]:
    person = _not_erased(state)
    kept = [d.retain_until for d in person.deferrals if d.retain_until >= ctx.today]
    if kept:
        refuse(
            "erasure_deferred",
            f"erasure is deferred until {max(kept)} (retention duty or legal claim)",
            "person_ref",
        )
    if ctx.key_destroyed is None:
        refuse(
            "erasure_not_performed",
            "the person's key must be destroyed before the erasure is recorded",
            "person_ref",
        )
    return [event_from(PersonDataErased, command, key_destroyed=ctx.key_destroyed)]


def _person(state: CaseState, **update: object) -> CaseState:
    if state.person is None:
        return state
    return state.model_copy(update={"person": state.person.model_copy(update=update)})


@evolves(ErasureRequested)
def requested(state: CaseState, event: ErasureRequested, meta: EventMeta) -> CaseState:
    asked = state.person.erasure_requests if state.person else ()
    return _person(state, erasure_requests=(*asked, Mark.of(meta)))


@evolves(ErasureDeferred)
def deferred(state: CaseState, event: ErasureDeferred, meta: EventMeta) -> CaseState:
    kept = state.person.deferrals if state.person else ()
    return _person(state, deferrals=(*kept, Deferral.of(meta, retain_until=event.retain_until)))


@evolves(PersonDataErased)
def erased(state: CaseState, event: PersonDataErased, meta: EventMeta) -> CaseState:
    return _person(state, erased=Mark.of(meta))
