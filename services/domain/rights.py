"""The leefloon right: grant, refusal, revision, suspension, resumption, end, payment."""

from __future__ import annotations

from uuid import UUID

from events.base import DomainEvent
from events.envelope import EventMeta
from events.rights import (
    LeefloonEnded,
    LeefloonGranted,
    LeefloonPaid,
    LeefloonRefused,
    LeefloonResumed,
    LeefloonRevised,
    LeefloonSuspended,
    SuspensionReason,
)
from services.commands.rights import (
    EndLeefloon,
    GrantLeefloon,
    RecordLeefloonPayment,
    RefuseLeefloon,
    ResumeLeefloon,
    ReviseLeefloon,
    SuspendLeefloon,
)
from services.domain.aid import mark_request
from services.domain.context import Context
from services.domain.decisions import add_decision, new_decision
from services.domain.errors import refuse, require
from services.domain.handlers import decides, event_from, evolves
from services.domain.marks import Mark
from services.domain.records import DecisionKind, Grant, GrantStatus, GrantStep
from services.domain.state import CaseState


def running_grant(state: CaseState, grant_id: UUID) -> Grant:
    """The grant ``grant_id`` while the right runs (granted or suspended), else refuse."""
    grant = state.grants.get(grant_id)
    if grant is None or not grant.running:
        refuse(
            "leefloon_not_granted",
            f"there is no running leefloon granted by decision {grant_id}",
            "grant_decision_id",
        )
    return grant


@decides(GrantLeefloon)
def grant(state: CaseState, command: GrantLeefloon, ctx: Context) -> list[DomainEvent]:
    new_decision(state, command.decision_id)
    for other in state.grants.values():
        overlaps = other.effective_until is None or other.effective_until >= command.effective_from
        require(
            not (other.running and overlaps),
            "leefloon_already_granted",
            f"a leefloon granted on {other.on} still runs; end or revise it instead",
            "effective_from",
        )
    return [event_from(LeefloonGranted, command)]


@decides(RefuseLeefloon)
def refuse_right(state: CaseState, command: RefuseLeefloon, ctx: Context) -> list[DomainEvent]:
    new_decision(state, command.decision_id)
    return [event_from(LeefloonRefused, command)]


@decides(ReviseLeefloon)
def revise(state: CaseState, command: ReviseLeefloon, ctx: Context) -> list[DomainEvent]:
    new_decision(state, command.decision_id)
    running_grant(state, command.grant_decision_id)
    return [event_from(LeefloonRevised, command)]


@decides(SuspendLeefloon)
def suspend(state: CaseState, command: SuspendLeefloon, ctx: Context) -> list[DomainEvent]:
    new_decision(state, command.decision_id)
    right = running_grant(state, command.grant_decision_id)
    require(
        right.status is GrantStatus.GRANTED,
        "leefloon_already_suspended",
        "the leefloon is already suspended",
        "grant_decision_id",
    )
    if command.reason is SuspensionReason.SANCTION:
        require(
            command.sanction_decision_id in state.sanctions,
            "unknown_sanction",
            f"no sanction {command.sanction_decision_id} was imposed in this case",
            "sanction_decision_id",
        )
    return [event_from(LeefloonSuspended, command)]


@decides(ResumeLeefloon)
def resume(state: CaseState, command: ResumeLeefloon, ctx: Context) -> list[DomainEvent]:
    right = running_grant(state, command.grant_decision_id)
    require(
        right.status is GrantStatus.SUSPENDED,
        "leefloon_not_suspended",
        "the leefloon is not suspended",
        "grant_decision_id",
    )
    return [event_from(LeefloonResumed, command)]


@decides(EndLeefloon)
def end(state: CaseState, command: EndLeefloon, ctx: Context) -> list[DomainEvent]:
    new_decision(state, command.decision_id)
    right = running_grant(state, command.grant_decision_id)
    require(
        command.end_date >= right.effective_from,
        "ends_before_start",
        f"the right started on {right.effective_from}",
        "end_date",
    )
    return [event_from(LeefloonEnded, command)]


@decides(RecordLeefloonPayment)
def pay(state: CaseState, command: RecordLeefloonPayment, ctx: Context) -> list[DomainEvent]:
    if command.grant_decision_id not in state.grants:  # every month: format only to refuse
        refuse(
            "unknown_grant",
            f"no leefloon was granted by decision {command.grant_decision_id}",
            "grant_decision_id",
        )
    return [event_from(LeefloonPaid, command)]


def _step(state: CaseState, grant_id: UUID, meta: EventMeta, status: GrantStatus) -> CaseState:
    right = state.grants.get(grant_id)
    if right is None:
        return state
    return state.change("grants", grant_id, steps=(*right.steps, GrantStep.of(meta, status=status)))


@evolves(LeefloonGranted)
def granted(state: CaseState, event: LeefloonGranted, meta: EventMeta) -> CaseState:
    right = Grant.of(
        meta,
        right_type=event.right_type,
        bcsd_session_on=event.bcsd_session_on,
        effective_from=event.effective_from,
        effective_until=event.effective_until,
        gpmi_required=event.gpmi_required,
    )
    state = add_decision(state, event.decision_id, DecisionKind.GRANT, meta)
    state = mark_request(state, "decided", Mark.of(meta))
    return state.put("grants", event.decision_id, right)


@evolves(LeefloonRefused)
def refused(state: CaseState, event: LeefloonRefused, meta: EventMeta) -> CaseState:
    state = add_decision(state, event.decision_id, DecisionKind.REFUSAL, meta)
    return mark_request(state, "decided", Mark.of(meta))


@evolves(LeefloonRevised)
def revised(state: CaseState, event: LeefloonRevised, meta: EventMeta) -> CaseState:
    return add_decision(state, event.decision_id, DecisionKind.REVISION, meta)


@evolves(LeefloonSuspended)
def suspended(state: CaseState, event: LeefloonSuspended, meta: EventMeta) -> CaseState:
    state = add_decision(state, event.decision_id, DecisionKind.SUSPENSION, meta)
    return _step(state, event.grant_decision_id, meta, GrantStatus.SUSPENDED)


@evolves(LeefloonResumed)
def resumed(state: CaseState, event: LeefloonResumed, meta: EventMeta) -> CaseState:
    return _step(state, event.grant_decision_id, meta, GrantStatus.GRANTED)


@evolves(LeefloonEnded)
def ended(state: CaseState, event: LeefloonEnded, meta: EventMeta) -> CaseState:
    state = add_decision(state, event.decision_id, DecisionKind.END, meta)
    return _step(state, event.grant_decision_id, meta, GrantStatus.ENDED)


@evolves(LeefloonPaid)
def paid(state: CaseState, event: LeefloonPaid, meta: EventMeta) -> CaseState:
    return state
