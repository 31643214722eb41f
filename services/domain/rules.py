"""Rules every command passes before its own: owner office, open case, evidence, personal data,
corrections."""

from __future__ import annotations

from functools import cache
from typing import Final
from uuid import UUID

from events.base import PERSONAL
from services.commands import Command, PersonalCommand
from services.commands.aid import ReceiveAidRequest, RegisterPerson
from services.commands.case import CloseCase, ReopenCase, RetractEvent
from services.commands.privacy import DeferErasure, ErasePersonData, RequestErasure
from services.commands.subsidies import (
    RecordSubsidyClaimApproval,
    RecordSubsidyClaimRejection,
    RegisterLapEngagement,
)
from services.domain.context import Context
from services.domain.errors import refuse, require
from services.domain.state import CaseKind, CaseState

STARTERS: Final[dict[type[Command], CaseKind]] = {
    ReceiveAidRequest: CaseKind.PERSON,
    RegisterLapEngagement: CaseKind.LEDGER,
}
LEDGER_COMMANDS: Final = frozenset({RegisterLapEngagement, CloseCase, ReopenCase, RetractEvent})
ALLOWED_WHEN_CLOSED: Final = frozenset(
    {
        ReopenCase,
        # The retention term runs from the closing: erasure comes after it.
        RequestErasure,
        DeferErasure,
        ErasePersonData,
        # The payer answers claims made before the case closed.
        RecordSubsidyClaimApproval,
        RecordSubsidyClaimRejection,
    }
)


def check_visible(state: CaseState, office_id: str, *, starting: bool = False) -> None:
    """A case of another office reads exactly like a case that does not exist."""
    visible = state.office == office_id if state.exists else starting
    if not visible:  # the message is formatted only when refusing: this runs for every command
        refuse("case_not_found", f"case {state.case_id} does not exist", "case_id")


def check_command(state: CaseState, command: Command, ctx: Context) -> CaseState:
    """Apply the rules every command shares; the state the command's own rules decide on."""
    check_visible(state, ctx.office_id, starting=type(command) in STARTERS)
    _check_kind(state, command)
    _check_open(state, command)
    today = ctx.today
    if command.occurred_on > today:
        refuse(
            "occurred_in_future",
            f"the business date {command.occurred_on} lies after today ({today})",
            "occurred_on",
        )
    _check_evidence(state, command)
    _check_person(state, command)
    return _correction_base(state, command)


def _check_kind(state: CaseState, command: Command) -> None:
    if state.kind is CaseKind.LEDGER:
        require(
            type(command) in LEDGER_COMMANDS,
            "not_a_person_case",
            f"{command.command_name} needs a person's case; this is an office ledger case",
            "case_id",
        )
    elif state.kind is CaseKind.PERSON:
        require(
            not isinstance(command, RegisterLapEngagement),
            "not_a_ledger_case",
            "LAP engagements are recorded on the office's ledger case, not on a person's case",
            "case_id",
        )


def _check_open(state: CaseState, command: Command) -> None:
    if not state.closed:
        return
    retracts_close = (
        isinstance(command, RetractEvent) and command.retracted_event_id == state.closed_by
    )
    require(
        type(command) in ALLOWED_WHEN_CLOSED or retracts_close,
        "case_closed",
        "the case is closed; reopen it before recording anything else",
        "case_id",
    )


def _check_evidence(state: CaseState, command: Command) -> None:
    for ref in command.evidence:
        if ref.kind != "event":
            continue
        try:
            event_id = UUID(ref.ref)
        except ValueError:
            refuse("unknown_evidence", f"evidence {ref.ref!r} is not an event id", "evidence")
        if event_id not in state.events:
            refuse(
                "unknown_evidence",
                f"evidence event {event_id} is not an event of this case",
                "evidence",
            )
        if not state.counts(event_id):
            refuse(
                "evidence_withdrawn",
                f"evidence event {event_id} was retracted or replaced by a correction",
                "evidence",
            )


def _check_person(state: CaseState, command: Command) -> None:
    if not isinstance(command, PersonalCommand):
        return
    if carries_personal_data(command):
        require(
            not state.erased,
            "person_erased",
            "the person's data were erased; no new personal data can be recorded",
            "person_ref",
        )
    if isinstance(command, RegisterPerson):
        return
    person = state.person
    if person is None:
        refuse("person_not_registered", "register the person first", "person_ref")
    require(
        person.person_ref == command.person_ref,
        "person_mismatch",
        "person_ref is not the person registered in this case",
        "person_ref",
    )


def carries_personal_data(command: Command) -> bool:
    return any(getattr(command, name) is not None for name in _personal_fields(type(command)))


@cache
def _personal_fields(cls: type[Command]) -> tuple[str, ...]:
    return tuple(
        name for name, info in cls.model_fields.items() if any(m is PERSONAL for m in info.metadata)
    )


def _correction_base(state: CaseState, command: Command) -> CaseState:
    target = command.corrects
    if target is None:
        return state
    require(
        target in state.events,
        "correction_target_unknown",
        f"event {target} is not an event of this case",
        "corrects",
    )
    require(
        target not in state.retracted,
        "event_retracted",
        f"event {target} was retracted and cannot be corrected",
        "corrects",
    )
    if target in state.superseded:
        refuse(
            "event_already_corrected",
            f"event {target} was already corrected by event {state.superseded[target]}; "
            "correct that one instead",
            "corrects",
        )
    expected = command.produces[0]
    require(
        state.events[target] == expected,
        "correction_type_mismatch",
        f"{command.command_name} can only correct a {expected} event, "
        f"not a {state.events[target]} event",
        "corrects",
    )
    return state.without(target)
