"""Agreements of a GPMI kept or missed, the basis of warnings and sanctions."""

from __future__ import annotations

from uuid import UUID

from events.base import DomainEvent
from events.envelope import EventMeta
from events.gpmi import AgreementFulfilled, AgreementMissed
from services.commands.gpmi import MarkAgreementFulfilled, MarkAgreementMissed
from services.domain.activities import AgreementOutcome
from services.domain.context import Context
from services.domain.gpmi import current_agreement, signed_gpmi
from services.domain.handlers import decides, event_from, evolves
from services.domain.state import CaseState


@decides(MarkAgreementFulfilled)
def fulfilled(state: CaseState, command: MarkAgreementFulfilled, ctx: Context) -> list[DomainEvent]:
    gpmi = signed_gpmi(state, command.gpmi_id, running=False)
    current_agreement(gpmi, command.agreement_id, "agreement_id")
    return [event_from(AgreementFulfilled, command)]


@decides(MarkAgreementMissed)
def missed(state: CaseState, command: MarkAgreementMissed, ctx: Context) -> list[DomainEvent]:
    gpmi = signed_gpmi(state, command.gpmi_id, running=False)
    current_agreement(gpmi, command.agreement_id, "agreement_id")
    return [event_from(AgreementMissed, command)]


def _outcome(
    state: CaseState, gpmi_id: UUID, agreement_id: UUID, outcome: AgreementOutcome
) -> CaseState:
    gpmi = state.gpmis.get(gpmi_id)
    found = gpmi.agreements.get(agreement_id) if gpmi else None
    if gpmi is None or found is None:
        return state
    found = found.model_copy(update={"outcomes": (*found.outcomes, outcome)})
    return state.change("gpmis", gpmi_id, agreements={**gpmi.agreements, agreement_id: found})


@evolves(AgreementFulfilled)
def kept(state: CaseState, event: AgreementFulfilled, meta: EventMeta) -> CaseState:
    outcome = AgreementOutcome.of(meta, fulfilled=True)
    return _outcome(state, event.gpmi_id, event.agreement_id, outcome)


@evolves(AgreementMissed)
def not_kept(state: CaseState, event: AgreementMissed, meta: EventMeta) -> CaseState:
    outcome = AgreementOutcome.of(meta, fulfilled=False)
    return _outcome(state, event.gpmi_id, event.agreement_id, outcome)
