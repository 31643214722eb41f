"""Subsidy claims (one per scheme and month, resting on evidence events) and LAP engagements."""

from __future__ import annotations

from uuid import UUID

from events.base import DomainEvent
from events.envelope import EventMeta
from events.subsidies import (
    LapEngagementRegistered,
    SubsidyClaimApproved,
    SubsidyClaimCorrected,
    SubsidyClaimRejected,
    SubsidyClaimSubmitted,
)
from services.commands.subsidies import (
    ClaimCommand,
    CorrectSubsidyClaim,
    RecordSubsidyClaimApproval,
    RecordSubsidyClaimRejection,
    RegisterLapEngagement,
    SubmitSubsidyClaim,
)
from services.domain.context import Context
from services.domain.errors import refuse, require
from services.domain.handlers import decides, event_from, evolves
from services.domain.marks import Mark
from services.domain.records import Claim, ClaimDecision, LapEngagement
from services.domain.state import CaseState


def _check_claim(state: CaseState, command: ClaimCommand, replaces: UUID | None = None) -> None:
    """A new claim line: a fresh id, evidence events, known references, scheme and month free."""
    # Messages with ids are formatted only when refusing: this runs for every claim line.
    if command.claim_id in state.claims:
        refuse("claim_exists", f"claim {command.claim_id} was already recorded", "claim_id")
    require(
        any(ref.kind == "event" for ref in command.evidence),
        "claim_without_evidence",
        "a claim must name the events of this case it rests on (evidence of kind 'event')",
        "evidence",
    )
    for field, known in (
        ("decision_id", state.grants),
        ("gpmi_id", state.gpmis),
        ("placement_id", state.placements),
    ):
        ref = getattr(command, field)
        if ref is not None and ref not in known:
            refuse("unknown_reference", f"{ref} is not in this case", field)
    for claim_id, claim in state.claims.items():
        same = claim.scheme == command.scheme and claim.period == command.period
        if same and claim_id != replaces and claim.superseded_by is None:
            refuse(
                "claim_already_made",
                f"{command.scheme.value} for {command.period} was already claimed in claim "
                f"{claim_id}; correct that claim instead",
                "period",
            )


def _open_claim(state: CaseState, claim_id: UUID) -> Claim:
    claim = state.claims.get(claim_id)
    if claim is None:
        refuse("unknown_claim", f"no claim {claim_id} in this case", "claim_id")
    if claim.superseded_by is not None:
        refuse("claim_superseded", f"claim {claim_id} was replaced by a correction", "claim_id")
    if claim.decided is not None:
        refuse("claim_already_decided", f"the payer already answered claim {claim_id}", "claim_id")
    return claim


@decides(SubmitSubsidyClaim)
def submit(state: CaseState, command: SubmitSubsidyClaim, ctx: Context) -> list[DomainEvent]:
    _check_claim(state, command)
    return [event_from(SubsidyClaimSubmitted, command)]


@decides(CorrectSubsidyClaim)
def correct(state: CaseState, command: CorrectSubsidyClaim, ctx: Context) -> list[DomainEvent]:
    old = state.claims.get(command.supersedes)
    if old is None:
        refuse("unknown_claim", f"no claim {command.supersedes} in this case", "supersedes")
    require(
        old.superseded_by is None,
        "claim_already_superseded",
        f"claim {command.supersedes} was already replaced; correct its replacement",
        "supersedes",
    )
    _check_claim(state, command, replaces=command.supersedes)
    return [event_from(SubsidyClaimCorrected, command)]


@decides(RecordSubsidyClaimApproval)
def approve(
    state: CaseState, command: RecordSubsidyClaimApproval, ctx: Context
) -> list[DomainEvent]:
    _open_claim(state, command.claim_id)
    return [event_from(SubsidyClaimApproved, command)]


@decides(RecordSubsidyClaimRejection)
def reject(
    state: CaseState, command: RecordSubsidyClaimRejection, ctx: Context
) -> list[DomainEvent]:
    _open_claim(state, command.claim_id)
    return [event_from(SubsidyClaimRejected, command)]


@decides(RegisterLapEngagement)
def engage(state: CaseState, command: RegisterLapEngagement, ctx: Context) -> list[DomainEvent]:
    require(
        command.call_id not in state.lap_calls,
        "lap_call_registered",
        f"the engagement for LAP call {command.call_id} is already registered",
        "call_id",
    )
    return [event_from(LapEngagementRegistered, command)]


@evolves(SubsidyClaimSubmitted)
def submitted(state: CaseState, event: SubsidyClaimSubmitted, meta: EventMeta) -> CaseState:
    claim = Claim.of(meta, scheme=event.scheme, period=event.period)
    return state.put("claims", event.claim_id, claim)


@evolves(SubsidyClaimCorrected)
def corrected(state: CaseState, event: SubsidyClaimCorrected, meta: EventMeta) -> CaseState:
    claim = Claim.of(meta, scheme=event.scheme, period=event.period, supersedes=event.supersedes)
    state = state.change("claims", event.supersedes, superseded_by=Mark.of(meta))
    return state.put("claims", event.claim_id, claim)


@evolves(SubsidyClaimApproved)
def approved(state: CaseState, event: SubsidyClaimApproved, meta: EventMeta) -> CaseState:
    return state.change("claims", event.claim_id, decided=ClaimDecision.of(meta, approved=True))


@evolves(SubsidyClaimRejected)
def rejected(state: CaseState, event: SubsidyClaimRejected, meta: EventMeta) -> CaseState:
    return state.change("claims", event.claim_id, decided=ClaimDecision.of(meta, approved=False))


@evolves(LapEngagementRegistered)
def engaged(state: CaseState, event: LapEngagementRegistered, meta: EventMeta) -> CaseState:
    engagement = LapEngagement.of(meta, call_from=event.call_from, call_to=event.call_to)
    return state.put("lap_calls", event.call_id, engagement)
