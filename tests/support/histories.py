"""Short constructors of the events the read-model tests craft histories from."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

from events.aid import AidRequestReceived, Channel, RequestedAid
from events.case import CaseClosed, CaseTransferred, CloseReason, TransferReason
from events.gpmi import (
    Agreement,
    AgreementCategory,
    AgreementParty,
    EvaluationOutcome,
    GpmiEnded,
    GpmiEndReason,
    GpmiEvaluated,
    GpmiExtended,
    GpmiSigned,
    GpmiSubsidyCode,
)
from events.guidance import (
    CounselorAssigned,
    CounselorRole,
    CounselorUnassigned,
    TrajectoryEnded,
    TrajectoryEndReason,
    TrajectoryKind,
    TrajectoryStarted,
)
from events.placements import (
    ContractType,
    PlacementEnded,
    PlacementEndReason,
    PlacementExtended,
    PlacementStarted,
    PlacementType,
)
from events.rights import (
    GpmiExemption,
    LeefloonCategory,
    LeefloonEnded,
    LeefloonGranted,
    LeefloonResumed,
    LeefloonRevised,
    LeefloonSuspended,
    RevisionCause,
    RightEndReason,
    RightType,
    SuspensionReason,
)
from events.subsidies import (
    ClaimField,
    ClaimForm,
    SubsidyClaimApproved,
    SubsidyClaimCorrected,
    SubsidyClaimRejected,
    SubsidyClaimSubmitted,
    SubsidyScheme,
)

OCMW_KBO = "0207437468"
RATE_TABLE = date(2025, 2, 1)


def aid_request() -> AidRequestReceived:
    return AidRequestReceived(channel=Channel.COUNTER, requested=RequestedAid.LEEFLOON)


def granted(
    decision: UUID,
    *,
    decided_on: date,
    effective_from: date,
    until: date | None = None,
    gpmi_required: bool = True,
    category: LeefloonCategory = LeefloonCategory.ALLEENSTAAND,
    right_type: RightType = RightType.LEEFLOON,
) -> LeefloonGranted:
    return LeefloonGranted(
        decision_id=decision,
        bcsd_session_on=decided_on,
        right_type=right_type,
        category=category,
        monthly_amount_cents=131420,
        rate_valid_from=RATE_TABLE,
        effective_from=effective_from,
        effective_until=until,
        gpmi_required=gpmi_required,
        gpmi_exemption=None if gpmi_required else GpmiExemption.HEALTH_OR_EQUITY,
    )


def revised(grant: UUID, category: LeefloonCategory, effective_from: date) -> LeefloonRevised:
    return LeefloonRevised(
        decision_id=uuid4(),
        grant_decision_id=grant,
        cause=RevisionCause.HOUSEHOLD_CHANGE,
        category=category,
        monthly_amount_cents=177607,
        rate_valid_from=RATE_TABLE,
        effective_from=effective_from,
    )


def suspended(grant: UUID, start: date, until: date | None = None) -> LeefloonSuspended:
    return LeefloonSuspended(
        decision_id=uuid4(),
        grant_decision_id=grant,
        reason=SuspensionReason.STAY_ABROAD,
        suspended_from=start,
        suspended_until=until,
    )


def resumed(grant: UUID, start: date) -> LeefloonResumed:
    return LeefloonResumed(grant_decision_id=grant, resumed_from=start)


def right_ended(grant: UUID, last_day: date) -> LeefloonEnded:
    return LeefloonEnded(
        decision_id=uuid4(),
        grant_decision_id=grant,
        end_date=last_day,
        reason=RightEndReason.INCOME_FROM_WORK,
    )


def assigned(role: CounselorRole, user: str, start: date) -> CounselorAssigned:
    return CounselorAssigned(role=role, counselor_user_id=user, assigned_from=start)


def unassigned(role: CounselorRole, user: str, until: date) -> CounselorUnassigned:
    return CounselorUnassigned(role=role, counselor_user_id=user, assigned_until=until)


def trajectory(trajectory_id: UUID, kind: TrajectoryKind) -> TrajectoryStarted:
    return TrajectoryStarted(trajectory_id=trajectory_id, kind=kind)


def trajectory_ended(trajectory_id: UUID) -> TrajectoryEnded:
    return TrajectoryEnded(trajectory_id=trajectory_id, reason=TrajectoryEndReason.SWITCHED_KIND)


def gpmi_signed(gpmi: UUID) -> GpmiSigned:
    agreement = Agreement(
        agreement_id=uuid4(), party=AgreementParty.CLIENT, category=AgreementCategory.WORK_SEARCH
    )
    return GpmiSigned(
        gpmi_id=gpmi,
        agreements=(agreement,),
        document_ref="doc-gpmi-1",
        subsidy_code=GpmiSubsidyCode.GPMI,
    )


def evaluated(gpmi: UUID, *, in_person: bool) -> GpmiEvaluated:
    return GpmiEvaluated(gpmi_id=gpmi, in_person=in_person, outcome=EvaluationOutcome.ON_TRACK)


def gpmi_extended(gpmi: UUID, until: date) -> GpmiExtended:
    return GpmiExtended(gpmi_id=gpmi, extended_until=until)


def gpmi_ended(gpmi: UUID) -> GpmiEnded:
    return GpmiEnded(gpmi_id=gpmi, reason=GpmiEndReason.GOALS_REACHED)


def transferred(to_office: str, on: date) -> CaseTransferred:
    return CaseTransferred(
        to_office_id=to_office, reason=TransferReason.MOVED_RESIDENCE, effective_on=on
    )


def case_closed() -> CaseClosed:
    return CaseClosed(reason=CloseReason.OUTFLOW)


def placement(
    placement_id: UUID,
    kind: PlacementType,
    *,
    starts_on: date,
    planned_end: date | None,
    employer: str = OCMW_KBO,
    placed_with: str | None = None,
    hours: str = "19",
    contract: ContractType = ContractType.WERKERVARINGSOVEREENKOMST,
) -> PlacementStarted:
    return PlacementStarted(
        placement_id=placement_id,
        placement_type=kind,
        employer_kbo=employer,
        placed_with_kbo=placed_with,
        hours_per_week=Decimal(hours),
        contract=contract,
        starts_on=starts_on,
        planned_end=planned_end,
    )


def placement_extended(placement_id: UUID, planned_end: date) -> PlacementExtended:
    return PlacementExtended(placement_id=placement_id, planned_end=planned_end)


def placement_ended(
    placement_id: UUID, reason: PlacementEndReason, hired_by: str | None = None
) -> PlacementEnded:
    return PlacementEnded(placement_id=placement_id, reason=reason, hired_by_kbo=hired_by)


def claim(
    claim_id: UUID,
    scheme: SubsidyScheme,
    period: str,
    cents: int,
    *,
    gpmi: UUID | None = None,
    decision: UUID | None = None,
) -> SubsidyClaimSubmitted:
    return SubsidyClaimSubmitted(
        claim_id=claim_id,
        scheme=scheme,
        period=period,
        amount_cents=cents,
        form=ClaimForm.B,
        tier_percent=10 if scheme is SubsidyScheme.GPMI else 55,
        decision_id=decision,
        gpmi_id=gpmi,
    )


def claim_corrected(
    claim_id: UUID,
    supersedes: UUID,
    scheme: SubsidyScheme,
    period: str,
    cents: int,
    changes: tuple[ClaimField, ...] = (ClaimField.AMOUNT,),
    *,
    gpmi: UUID | None = None,
) -> SubsidyClaimCorrected:
    return SubsidyClaimCorrected(
        claim_id=claim_id,
        supersedes=supersedes,
        changes=changes,
        scheme=scheme,
        period=period,
        amount_cents=cents,
        form=ClaimForm.B,
        gpmi_id=gpmi,
    )


def claim_approved(claim_id: UUID, cents: int) -> SubsidyClaimApproved:
    return SubsidyClaimApproved(claim_id=claim_id, amount_cents=cents)


def claim_rejected(claim_id: UUID, code: str = "R17") -> SubsidyClaimRejected:
    return SubsidyClaimRejected(claim_id=claim_id, reason_code=code)
