"""Events of subsidy claims (formulier B/D, VDAB, LAP, ESF) and LAP engagements."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar, Self
from uuid import UUID

from pydantic import Field, model_validator

from events.base import Cents, Code, Month
from events.common import CatalogueEvent, Percent
from events.envelope import OfficeId


class SubsidyEvent(CatalogueEvent):
    area: ClassVar[str] = "subsidies"


class SubsidyScheme(StrEnum):
    """The scheme a claim is made under."""

    RMI_BASE = "rmi_base"
    GPMI = "gpmi"
    ART60 = "art60"
    TWE = "twe"
    ART61 = "art61"
    LAP = "lap"
    ESF = "esf"


class ClaimForm(StrEnum):
    """The form the claim travels on: POD MI formulier B or D, or another channel."""

    B = "b"
    D = "d"
    OTHER = "other"


class ClaimField(StrEnum):
    """What a corrected claim changes."""

    AMOUNT = "amount"
    PERIOD = "period"
    SCHEME = "scheme"
    FORM_CODE = "form_code"
    TIER = "tier"
    REFERENCES = "references"


class ClaimBody(SubsidyEvent):
    """Fields of a full claim line, shared by a submission and its correction."""

    claim_id: UUID
    scheme: SubsidyScheme = Field(examples=["gpmi"])
    period: Month = Field(description="Month claimed for.", examples=["2025-03"])
    amount_cents: Cents = Field(examples=[13142])
    form: ClaimForm = Field(examples=["b"])
    form_code: Code | None = Field(
        default=None, description="Code on the form, e.g. formulier B 11 = GPMI.", examples=["11"]
    )
    tier_percent: Percent | None = Field(
        default=None,
        description="Refund rate the amount rests on (55/65/70 for RMI base, 10 for GPMI).",
        examples=[55],
    )
    decision_id: UUID | None = Field(default=None, description="The leefloon grant claimed on.")
    gpmi_id: UUID | None = None
    placement_id: UUID | None = None


class SubsidyClaimSubmitted(ClaimBody):
    """A claim for one person, scheme and month was sent to the payer."""

    event_name: ClassVar[str] = "SubsidyClaimSubmitted"
    event_version: ClassVar[int] = 1


class SubsidyClaimApproved(SubsidyEvent):
    """The payer approved a claim, possibly for a different amount."""

    event_name: ClassVar[str] = "SubsidyClaimApproved"
    event_version: ClassVar[int] = 1

    claim_id: UUID
    amount_cents: Cents = Field(examples=[13142])


class SubsidyClaimRejected(SubsidyEvent):
    """The payer rejected a claim."""

    event_name: ClassVar[str] = "SubsidyClaimRejected"
    event_version: ClassVar[int] = 1

    claim_id: UUID
    reason_code: Code = Field(description="The payer's rejection code.", examples=["R17"])


class SubsidyClaimCorrected(ClaimBody):
    """A new claim line replaces an earlier one (like formulier B 'statuut 1')."""

    event_name: ClassVar[str] = "SubsidyClaimCorrected"
    event_version: ClassVar[int] = 1

    supersedes: UUID = Field(description="Claim id of the claim this one replaces.")
    changes: Annotated[tuple[ClaimField, ...], Field(min_length=1, max_length=6)] = Field(
        examples=[["amount"]]
    )

    @model_validator(mode="after")
    def _not_self(self) -> Self:
        if self.supersedes == self.claim_id:
            raise ValueError("supersedes must name another claim than claim_id")
        return self


class LapEngagementRegistered(SubsidyEvent):
    """The office's engagement in a LAP call (recorded on the office's own ledger case)."""

    event_name: ClassVar[str] = "LapEngagementRegistered"
    event_version: ClassVar[int] = 1
    date_order: ClassVar[tuple[tuple[str, str], ...]] = (("call_from", "call_to"),)

    call_id: Code = Field(examples=["lap-2"])
    call_from: date = Field(examples=["2024-12-01"])
    call_to: date = Field(examples=["2025-11-30"])
    baseline_people: Annotated[int, Field(ge=0, le=100_000)] = Field(
        description="People at work expected from the Flemish average outflow.", examples=[43]
    )
    extra_people: Annotated[int, Field(ge=0, le=100_000)] = Field(
        description="Engagement on top of the baseline.", examples=[10]
    )
    budget_cents: Cents = Field(examples=[6_000_000])
    joint_with: Annotated[tuple[OfficeId, ...], Field(max_length=50)] = Field(
        default=(), description="Other offices of a joint file in the reference region."
    )
