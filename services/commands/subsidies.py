"""Commands of subsidy claims and LAP engagements."""

from __future__ import annotations

from typing import Annotated, ClassVar, Self
from uuid import UUID

from pydantic import Field, model_validator

from events.base import Code, Month
from events.common import Percent
from events.envelope import OfficeId
from events.subsidies import ClaimField, ClaimForm, SubsidyScheme
from services.commands.base import BudgetCents, ClaimCents, Command, SaneDate

People = Annotated[int, Field(strict=True, ge=0, le=100_000)]


class ClaimCommand(Command):
    """Fields of a full claim line."""

    claim_id: UUID
    scheme: SubsidyScheme
    period: Month
    amount_cents: ClaimCents
    form: ClaimForm
    form_code: Code | None = None
    tier_percent: Percent | None = None
    decision_id: UUID | None = None
    gpmi_id: UUID | None = None
    placement_id: UUID | None = None


class SubmitSubsidyClaim(ClaimCommand):
    """Record a claim sent to the payer for one scheme and month."""

    command_name: ClassVar[str] = "SubmitSubsidyClaim"
    produces: ClassVar[tuple[str, ...]] = ("SubsidyClaimSubmitted",)


class CorrectSubsidyClaim(ClaimCommand):
    """Replace an earlier claim with a new full claim line."""

    command_name: ClassVar[str] = "CorrectSubsidyClaim"
    produces: ClassVar[tuple[str, ...]] = ("SubsidyClaimCorrected",)

    supersedes: UUID
    changes: Annotated[tuple[ClaimField, ...], Field(min_length=1, max_length=6)]

    @model_validator(mode="after")
    def _not_self(self) -> Self:
        if self.supersedes == self.claim_id:
            raise ValueError("supersedes must name another claim than claim_id")
        return self


class RecordSubsidyClaimApproval(Command):
    """Record the payer's approval of a claim."""

    command_name: ClassVar[str] = "RecordSubsidyClaimApproval"
    produces: ClassVar[tuple[str, ...]] = ("SubsidyClaimApproved",)

    claim_id: UUID
    amount_cents: ClaimCents


class RecordSubsidyClaimRejection(Command):
    """Record the payer's rejection of a claim."""

    command_name: ClassVar[str] = "RecordSubsidyClaimRejection"
    produces: ClassVar[tuple[str, ...]] = ("SubsidyClaimRejected",)

    claim_id: UUID
    reason_code: Code


class RegisterLapEngagement(Command):
    """Record the office's engagement in a LAP call (on the office's ledger case)."""

    command_name: ClassVar[str] = "RegisterLapEngagement"
    produces: ClassVar[tuple[str, ...]] = ("LapEngagementRegistered",)
    date_order: ClassVar[tuple[tuple[str, str], ...]] = (("call_from", "call_to"),)

    call_id: Code
    call_from: SaneDate
    call_to: SaneDate
    baseline_people: People
    extra_people: People
    budget_cents: BudgetCents
    joint_with: Annotated[tuple[OfficeId, ...], Field(max_length=50)] = ()
