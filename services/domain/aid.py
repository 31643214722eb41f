"""The aid request: receiving it, registering the person, the social inquiry, withdrawal."""

from __future__ import annotations

from typing import Final

from events.aid import (
    AidRequestReceived,
    AidRequestWithdrawn,
    PersonDetailsUpdated,
    PersonField,
    PersonRegistered,
    SocialInquiryCompleted,
)
from events.base import DomainEvent
from events.envelope import EventMeta
from services.commands.aid import (
    CompleteSocialInquiry,
    ReceiveAidRequest,
    RegisterPerson,
    UpdatePersonDetails,
    WithdrawAidRequest,
)
from services.domain.context import Context
from services.domain.errors import require
from services.domain.handlers import decides, event_from, evolves
from services.domain.marks import Mark
from services.domain.records import AidRequest, Person
from services.domain.state import CaseState


def pending_request(state: CaseState) -> int | None:
    """Index of the request still waiting for a decision, if any."""
    for i in range(len(state.requests) - 1, -1, -1):
        if state.requests[i].pending:
            return i
    return None


def mark_request(state: CaseState, field: str, mark: Mark) -> CaseState:
    """Set ``decided`` or ``withdrawn`` on the pending request (no-op without one)."""
    i = pending_request(state)
    if i is None:
        return state
    requests = list(state.requests)
    requests[i] = requests[i].model_copy(update={field: mark})
    return state.model_copy(update={"requests": tuple(requests)})


@decides(ReceiveAidRequest)
def receive(state: CaseState, command: ReceiveAidRequest, ctx: Context) -> list[DomainEvent]:
    require(
        pending_request(state) is None,
        "aid_request_pending",
        "an earlier aid request still waits for a decision",
        "case_id",
    )
    return [event_from(AidRequestReceived, command)]


@decides(RegisterPerson)
def register(state: CaseState, command: RegisterPerson, ctx: Context) -> list[DomainEvent]:
    require(
        state.person is None,
        "person_already_registered",
        "the person is already registered; record changes with UpdatePersonDetails",
        "person_ref",
    )
    return [event_from(PersonRegistered, command)]


FIELDS_OF: Final = {
    PersonField.NATIONAL_NUMBER: ("national_number",),
    PersonField.NAME: ("family_name", "given_names"),
    PersonField.ADDRESS: ("address",),
    PersonField.BIRTH_DATE: ("birth_date",),
    PersonField.HOUSEHOLD: ("household",),
}


@decides(UpdatePersonDetails)
def update(state: CaseState, command: UpdatePersonDetails, ctx: Context) -> list[DomainEvent]:
    changed = tuple(
        group
        for group, fields in FIELDS_OF.items()
        if any(getattr(command, f) is not None for f in fields)
    )
    return [event_from(PersonDetailsUpdated, command, changed=changed)]


@decides(CompleteSocialInquiry)
def inquiry(state: CaseState, command: CompleteSocialInquiry, ctx: Context) -> list[DomainEvent]:
    return [event_from(SocialInquiryCompleted, command)]


@decides(WithdrawAidRequest)
def withdraw(state: CaseState, command: WithdrawAidRequest, ctx: Context) -> list[DomainEvent]:
    require(
        pending_request(state) is not None,
        "no_pending_request",
        "there is no aid request waiting for a decision",
        "case_id",
    )
    return [event_from(AidRequestWithdrawn, command)]


@evolves(AidRequestReceived)
def received(state: CaseState, event: AidRequestReceived, meta: EventMeta) -> CaseState:
    return state.add("requests", AidRequest.of(meta, requested=event.requested))


@evolves(PersonRegistered)
def registered(state: CaseState, event: PersonRegistered, meta: EventMeta) -> CaseState:
    return state.model_copy(update={"person": Person.of(meta, person_ref=meta.person_ref)})


@evolves(PersonDetailsUpdated)
def updated(state: CaseState, event: PersonDetailsUpdated, meta: EventMeta) -> CaseState:
    return state


@evolves(SocialInquiryCompleted)
def inquired(state: CaseState, event: SocialInquiryCompleted, meta: EventMeta) -> CaseState:
    return state.add("inquiries", Mark.of(meta))


@evolves(AidRequestWithdrawn)
def withdrawn(state: CaseState, event: AidRequestWithdrawn, meta: EventMeta) -> CaseState:
    return mark_request(state, "withdrawn", Mark.of(meta))
