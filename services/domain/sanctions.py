"""Sanctions: formal warning (aanmaning) on an agreement, hearing, sanction and its limits.

RMI law art. 30: a GPMI breach is sanctioned only after a formal warning, with a suspension of
at most 1 month (3 if repeated within a year); undeclared resources up to 6 months, fraud up
to 12, both doubled if repeated within 3 years.
"""

from __future__ import annotations

from typing import Final

from events.base import DomainEvent
from events.envelope import EventMeta
from events.sanctions import HearingHeld, SanctionBasis, SanctionImposed, WarningIssued
from services.commands.sanctions import ImposeSanction, IssueWarning, RecordHearing
from services.domain.activities import FormalWarning, Hearing, Sanction
from services.domain.context import Context
from services.domain.deadlines import add_months
from services.domain.decisions import add_decision, new_decision
from services.domain.errors import refuse, require
from services.domain.gpmi import current_agreement, signed_gpmi
from services.domain.handlers import decides, event_from, evolves
from services.domain.records import DecisionKind
from services.domain.state import CaseState

MAX_MONTHS: Final = {
    SanctionBasis.GPMI_BREACH: (1, 3),
    SanctionBasis.UNDECLARED_RESOURCES: (6, 12),
    SanctionBasis.FRAUD: (12, 24),
}
"""Longest suspension in months: (first time, repeated within the repeat window)."""

REPEAT_WITHIN_MONTHS: Final = {
    SanctionBasis.GPMI_BREACH: 12,
    SanctionBasis.UNDECLARED_RESOURCES: 36,
    SanctionBasis.FRAUD: 36,
}
_RESOURCES: Final = frozenset({SanctionBasis.UNDECLARED_RESOURCES, SanctionBasis.FRAUD})


def _same_ground(a: SanctionBasis, b: SanctionBasis) -> bool:
    return a == b or {a, b} <= _RESOURCES


@decides(IssueWarning)
def warn(state: CaseState, command: IssueWarning, ctx: Context) -> list[DomainEvent]:
    require(
        command.warning_id not in state.warnings,
        "warning_exists",
        f"warning {command.warning_id} was already issued",
        "warning_id",
    )
    gpmi = signed_gpmi(state, command.gpmi_id)
    current_agreement(gpmi, command.agreement_id, "agreement_id")
    return [event_from(WarningIssued, command)]


@decides(RecordHearing)
def hear(state: CaseState, command: RecordHearing, ctx: Context) -> list[DomainEvent]:
    require(
        command.hearing_id not in state.hearings,
        "hearing_exists",
        f"hearing {command.hearing_id} was already recorded",
        "hearing_id",
    )
    require(
        command.warning_id is None or command.warning_id in state.warnings,
        "unknown_warning",
        f"no warning {command.warning_id} in this case",
        "warning_id",
    )
    return [event_from(HearingHeld, command)]


@decides(ImposeSanction)
def sanction(state: CaseState, command: ImposeSanction, ctx: Context) -> list[DomainEvent]:
    new_decision(state, command.decision_id)
    if command.basis is SanctionBasis.GPMI_BREACH:
        _check_warning(state, command)
    require(
        command.hearing_id is None or command.hearing_id in state.hearings,
        "unknown_hearing",
        f"no hearing {command.hearing_id} in this case",
        "hearing_id",
    )
    window = REPEAT_WITHIN_MONTHS[command.basis]
    if command.repeat:
        since = add_months(command.occurred_on, -window)
        earlier = [
            s
            for s in state.sanctions.values()
            if _same_ground(s.basis, command.basis) and since <= s.on <= command.occurred_on
        ]
        require(
            bool(earlier),
            "repeat_without_earlier_sanction",
            f"no sanction on the same ground in the {window} months before; this is not a repeat",
            "repeat",
        )
    first, repeated = MAX_MONTHS[command.basis]
    limit = repeated if command.repeat else first
    require(
        command.months <= limit,
        "sanction_too_long",
        f"a sanction for {command.basis.value} lasts at most {limit} month(s)"
        + (f" when repeated within {window} months" if command.repeat else ""),
        "months",
    )
    return [event_from(SanctionImposed, command)]


def _check_warning(state: CaseState, command: ImposeSanction) -> None:
    if command.warning_id is None:
        refuse(
            "no_prior_warning",
            "a GPMI breach can only be sanctioned after a formal warning (aanmaning) "
            "on the agreement; name it in warning_id",
            "warning_id",
        )
    warning = state.warnings.get(command.warning_id)
    if warning is None:
        refuse("no_prior_warning", f"no warning {command.warning_id} in this case", "warning_id")
    require(
        warning.on <= command.occurred_on,
        "no_prior_warning",
        f"the warning was issued on {warning.on}, after this decision",
        "warning_id",
    )


@evolves(WarningIssued)
def warned(state: CaseState, event: WarningIssued, meta: EventMeta) -> CaseState:
    warning = FormalWarning.of(meta, gpmi_id=event.gpmi_id, agreement_id=event.agreement_id)
    return state.put("warnings", event.warning_id, warning)


@evolves(HearingHeld)
def heard(state: CaseState, event: HearingHeld, meta: EventMeta) -> CaseState:
    hearing = Hearing.of(meta, warning_id=event.warning_id, attended=event.attended)
    return state.put("hearings", event.hearing_id, hearing)


@evolves(SanctionImposed)
def imposed(state: CaseState, event: SanctionImposed, meta: EventMeta) -> CaseState:
    imposed = Sanction.of(
        meta,
        basis=event.basis,
        months=event.months,
        repeat=event.repeat,
        starts_on=event.starts_on,
        warning_id=event.warning_id,
    )
    state = add_decision(state, event.decision_id, DecisionKind.SANCTION, meta)
    return state.put("sanctions", event.decision_id, imposed)
