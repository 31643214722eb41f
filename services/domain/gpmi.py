"""The GPMI: signing, amendments, extension (code 17), evaluations, end, agreements kept."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from events.base import DomainEvent
from events.envelope import EventMeta
from events.gpmi import (
    GpmiAmended,
    GpmiEnded,
    GpmiEvaluated,
    GpmiExtended,
    GpmiSigned,
)
from services.commands.gpmi import (
    AmendGpmi,
    EndGpmi,
    EvaluateGpmi,
    ExtendGpmi,
    SignGpmi,
)
from services.domain.activities import Agreement, Evaluation, Extension, Gpmi
from services.domain.context import Context
from services.domain.deadlines import add_months
from services.domain.errors import refuse, require
from services.domain.guidance import known_trajectory
from services.domain.handlers import decides, event_from, evolves
from services.domain.marks import Mark
from services.domain.state import CaseState


def signed_gpmi(state: CaseState, gpmi_id: UUID, *, running: bool = True) -> Gpmi:
    """The signed GPMI ``gpmi_id`` (still running unless ``running`` is false), else refuse."""
    found = state.gpmis.get(gpmi_id)
    if found is None:
        refuse("gpmi_not_signed", f"no signed GPMI {gpmi_id} in this case", "gpmi_id")
    if running and found.ended is not None:
        refuse("gpmi_ended", f"GPMI {gpmi_id} ended on {found.ended.on}", "gpmi_id")
    return found


def current_agreement(gpmi: Gpmi, agreement_id: UUID, field: str) -> Agreement:
    found = gpmi.current_agreement(agreement_id)
    if found is None:
        refuse("unknown_agreement", f"agreement {agreement_id} is not part of this GPMI", field)
    return found


def subsidy_end(gpmi: Gpmi) -> date:
    """Last day of the +10% subsidy: 12 months from the month of signing, or as extended."""
    base = add_months(gpmi.on.replace(day=1), 12) - timedelta(days=1)
    return max([base, *(e.until for e in gpmi.extensions)])


@decides(SignGpmi)
def sign(state: CaseState, command: SignGpmi, ctx: Context) -> list[DomainEvent]:
    require(
        command.gpmi_id not in state.gpmis,
        "gpmi_exists",
        f"GPMI {command.gpmi_id} was already signed",
        "gpmi_id",
    )
    running = [g for g in state.gpmis.values() if g.ended is None]
    require(
        not running,
        "gpmi_already_running",
        "a GPMI is already running; amend it or end it first",
        "gpmi_id",
    )
    known_trajectory(state, command.trajectory_id)
    return [event_from(GpmiSigned, command)]


@decides(AmendGpmi)
def amend(state: CaseState, command: AmendGpmi, ctx: Context) -> list[DomainEvent]:
    gpmi = signed_gpmi(state, command.gpmi_id)
    for added in command.added:
        require(
            added.agreement_id not in gpmi.agreements,
            "agreement_exists",
            f"agreement {added.agreement_id} is already part of this GPMI",
            "added",
        )
    for changed in command.changed:
        current_agreement(gpmi, changed.agreement_id, "changed")
    for withdrawn in command.withdrawn:
        current_agreement(gpmi, withdrawn, "withdrawn")
    return [event_from(GpmiAmended, command)]


@decides(ExtendGpmi)
def extend(state: CaseState, command: ExtendGpmi, ctx: Context) -> list[DomainEvent]:
    gpmi = signed_gpmi(state, command.gpmi_id)
    until = subsidy_end(gpmi)
    require(
        command.extended_until > until,
        "extension_not_later",
        f"the GPMI subsidy already runs until {until}",
        "extended_until",
    )
    return [event_from(GpmiExtended, command)]


@decides(EvaluateGpmi)
def evaluate(state: CaseState, command: EvaluateGpmi, ctx: Context) -> list[DomainEvent]:
    gpmi = signed_gpmi(state, command.gpmi_id)
    require(
        command.occurred_on >= gpmi.on,
        "evaluation_before_signing",
        f"the GPMI was signed on {gpmi.on}",
        "occurred_on",
    )
    return [event_from(GpmiEvaluated, command)]


@decides(EndGpmi)
def end(state: CaseState, command: EndGpmi, ctx: Context) -> list[DomainEvent]:
    signed_gpmi(state, command.gpmi_id)
    return [event_from(GpmiEnded, command)]


@evolves(GpmiSigned)
def signed(state: CaseState, event: GpmiSigned, meta: EventMeta) -> CaseState:
    agreements = {a.agreement_id: Agreement.of(meta) for a in event.agreements}
    gpmi = Gpmi.of(
        meta,
        subsidy_code=event.subsidy_code,
        trajectory_id=event.trajectory_id,
        agreements=agreements,
    )
    return state.put("gpmis", event.gpmi_id, gpmi)


@evolves(GpmiAmended)
def amended(state: CaseState, event: GpmiAmended, meta: EventMeta) -> CaseState:
    gpmi = state.gpmis.get(event.gpmi_id)
    if gpmi is None:
        return state
    mark = Mark.of(meta)
    agreements = dict(gpmi.agreements)
    for added in event.added:
        agreements[added.agreement_id] = Agreement.of(meta)
    for changed in event.changed:
        if (found := agreements.get(changed.agreement_id)) is not None:
            agreements[changed.agreement_id] = found.model_copy(
                update={"changes": (*found.changes, mark)}
            )
    for withdrawn in event.withdrawn:
        if (found := agreements.get(withdrawn)) is not None:
            agreements[withdrawn] = found.model_copy(update={"withdrawn": mark})
    amendments = (*gpmi.amendments, mark)
    return state.change("gpmis", event.gpmi_id, agreements=agreements, amendments=amendments)


@evolves(GpmiExtended)
def extended(state: CaseState, event: GpmiExtended, meta: EventMeta) -> CaseState:
    gpmi = state.gpmis.get(event.gpmi_id)
    if gpmi is None:
        return state
    extensions = (*gpmi.extensions, Extension.of(meta, until=event.extended_until))
    return state.change("gpmis", event.gpmi_id, extensions=extensions)


@evolves(GpmiEvaluated)
def evaluated(state: CaseState, event: GpmiEvaluated, meta: EventMeta) -> CaseState:
    gpmi = state.gpmis.get(event.gpmi_id)
    if gpmi is None:
        return state
    evaluations = (*gpmi.evaluations, Evaluation.of(meta, in_person=event.in_person))
    return state.change("gpmis", event.gpmi_id, evaluations=evaluations)


@evolves(GpmiEnded)
def ended(state: CaseState, event: GpmiEnded, meta: EventMeta) -> CaseState:
    return state.change("gpmis", event.gpmi_id, ended=Mark.of(meta))
