"""BCSD decisions as such: unique ids, notification (8 days), appeal at the labour court."""

from __future__ import annotations

from uuid import UUID

from events.base import DomainEvent
from events.envelope import EventMeta
from events.rights import AppealDecided, AppealLodged, DecisionNotified
from services.commands.rights import RecordAppeal, RecordAppealJudgment, RecordDecisionNotification
from services.domain.context import Context
from services.domain.errors import refuse, require
from services.domain.handlers import decides, event_from, evolves
from services.domain.marks import Mark
from services.domain.records import Appeal, Decision, DecisionKind
from services.domain.state import CaseState


def new_decision(state: CaseState, decision_id: UUID) -> None:
    require(
        decision_id not in state.decisions,
        "decision_exists",
        f"decision {decision_id} is already recorded in this case",
        "decision_id",
    )


def known_decision(state: CaseState, decision_id: UUID) -> Decision:
    found = state.decisions.get(decision_id)
    if found is None:
        refuse("unknown_decision", f"no decision {decision_id} in this case", "decision_id")
    return found


def add_decision(
    state: CaseState, decision_id: UUID, kind: DecisionKind, meta: EventMeta
) -> CaseState:
    return state.put("decisions", decision_id, Decision.of(meta, kind=kind))


def _pending_appeal(decision: Decision) -> int | None:
    for i, appeal in enumerate(decision.appeals):
        if appeal.decided is None:
            return i
    return None


@decides(RecordDecisionNotification)
def notify(
    state: CaseState, command: RecordDecisionNotification, ctx: Context
) -> list[DomainEvent]:
    known_decision(state, command.decision_id)
    return [event_from(DecisionNotified, command)]


@decides(RecordAppeal)
def appeal(state: CaseState, command: RecordAppeal, ctx: Context) -> list[DomainEvent]:
    decision = known_decision(state, command.decision_id)
    require(
        _pending_appeal(decision) is None,
        "appeal_pending",
        "an appeal against this decision is still pending",
        "decision_id",
    )
    return [event_from(AppealLodged, command)]


@decides(RecordAppealJudgment)
def judgment(state: CaseState, command: RecordAppealJudgment, ctx: Context) -> list[DomainEvent]:
    decision = known_decision(state, command.decision_id)
    require(
        _pending_appeal(decision) is not None,
        "no_pending_appeal",
        "no appeal against this decision is pending",
        "decision_id",
    )
    return [event_from(AppealDecided, command)]


@evolves(DecisionNotified)
def notified(state: CaseState, event: DecisionNotified, meta: EventMeta) -> CaseState:
    decision = state.decisions.get(event.decision_id)
    if decision is None:
        return state
    notifications = (*decision.notifications, Mark.of(meta))
    return state.change("decisions", event.decision_id, notifications=notifications)


@evolves(AppealLodged)
def lodged(state: CaseState, event: AppealLodged, meta: EventMeta) -> CaseState:
    decision = state.decisions.get(event.decision_id)
    if decision is None:
        return state
    appeals = (*decision.appeals, Appeal.of(meta))
    return state.change("decisions", event.decision_id, appeals=appeals)


@evolves(AppealDecided)
def decided(state: CaseState, event: AppealDecided, meta: EventMeta) -> CaseState:
    decision = state.decisions.get(event.decision_id)
    i = None if decision is None else _pending_appeal(decision)
    if decision is None or i is None:
        return state
    appeals = list(decision.appeals)
    appeals[i] = appeals[i].model_copy(update={"decided": Mark.of(meta)})
    return state.change("decisions", event.decision_id, appeals=tuple(appeals))
