"""Events of the (equivalent) leefloon right: BCSD decisions, notification, payment, appeal."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar, Self
from uuid import UUID

from pydantic import Field, model_validator

from events.base import Cents, Code, FreeText, Month, Personal
from events.common import CatalogueEvent

DecisionId = UUID


class RightsEvent(CatalogueEvent):
    area: ClassVar[str] = "rights"


class RightType(StrEnum):
    """Leefloon (RMI law 2002) or equivalent leefloon (financial social aid, law of 1965)."""

    LEEFLOON = "leefloon"
    EQUIVALENT_LEEFLOON = "equivalent_leefloon"


class LeefloonCategory(StrEnum):
    """Category 1 samenwonend, 2 alleenstaand, 3 gezinslast (with a dependent minor child)."""

    SAMENWONEND = "samenwonend"
    ALLEENSTAAND = "alleenstaand"
    GEZINSLAST = "gezinslast"

    @property
    def number(self) -> int:
        """The legal category number (1, 2 or 3)."""
        return list(LeefloonCategory).index(self) + 1


class GpmiExemption(StrEnum):
    """Why no GPMI is required; details of health or equity grounds stay sealed elsewhere."""

    HEALTH_OR_EQUITY = "health_or_equity"
    NOT_A_NEW_FILE = "not_a_new_file"


class RefusalReason(StrEnum):
    """Ground of a refusal."""

    RESOURCES_SUFFICIENT = "resources_sufficient"
    RESIDENCE_CONDITION = "residence_condition"
    NATIONALITY_CONDITION = "nationality_condition"
    AGE_CONDITION = "age_condition"
    NOT_AVAILABLE_FOR_WORK = "not_available_for_work"
    RIGHTS_NOT_CLAIMED = "rights_not_claimed"
    NO_COOPERATION = "no_cooperation"
    NOT_TERRITORIALLY_COMPETENT = "not_territorially_competent"


class NotificationChannel(StrEnum):
    """How a decision was notified."""

    REGISTERED_LETTER = "registered_letter"
    HANDED_OVER_AGAINST_RECEIPT = "handed_over_against_receipt"
    OCMW_ONLINE = "ocmw_online"


class RevisionCause(StrEnum):
    """Why a running right was revised."""

    INDEXATION = "indexation"
    HOUSEHOLD_CHANGE = "household_change"
    INCOME_CHANGE = "income_change"
    CATEGORY_CORRECTION = "category_correction"


class SuspensionReason(StrEnum):
    """Why payment is suspended; art. 10 grounds use OTHER with a sealed explanation."""

    SANCTION = "sanction"
    STAY_ABROAD = "stay_abroad"
    MISSING_DOCUMENTS = "missing_documents"
    OTHER = "other"


class RightEndReason(StrEnum):
    """Why a right ended."""

    INCOME_FROM_WORK = "income_from_work"
    OTHER_INCOME = "other_income"
    OTHER_BENEFIT = "other_benefit"
    MOVED = "moved"
    DECEASED = "deceased"
    CONDITIONS_NO_LONGER_MET = "conditions_no_longer_met"
    AT_OWN_REQUEST = "at_own_request"


class AppealOutcome(StrEnum):
    """The labour court's judgment on an appeal."""

    DECISION_UPHELD = "decision_upheld"
    DECISION_ANNULLED = "decision_annulled"
    PARTIALLY_ANNULLED = "partially_annulled"
    APPEAL_WITHDRAWN = "appeal_withdrawn"


class LeefloonGranted(RightsEvent):
    """The BCSD granted a right from ``effective_from`` at a monthly amount."""

    event_name: ClassVar[str] = "LeefloonGranted"
    event_version: ClassVar[int] = 3
    date_order: ClassVar[tuple[tuple[str, str], ...]] = (("effective_from", "effective_until"),)

    decision_id: DecisionId = Field(
        description="Id of this BCSD decision; later events link to it."
    )
    bcsd_session_on: date = Field(description="Date of the BCSD session that decided.")
    right_type: RightType = Field(examples=["leefloon"])
    category: LeefloonCategory = Field(examples=["alleenstaand"])
    monthly_amount_cents: Cents = Field(examples=[131420])
    rate_valid_from: date = Field(
        description="Validity date of the indexed rate table the amount derives from.",
        examples=["2025-02-01"],
    )
    effective_from: date = Field(description="First day of the right (often the request date).")
    effective_until: date | None = Field(default=None, description="Last day; None = open-ended.")
    gpmi_required: bool = Field(description="A GPMI must be drawn up within 3 months.")
    gpmi_exemption: GpmiExemption | None = Field(
        default=None,
        description="Why no GPMI is required; set exactly when gpmi_required is false.",
    )

    @model_validator(mode="after")
    def _gpmi_required_xor_exemption(self) -> Self:
        if self.gpmi_required == (self.gpmi_exemption is not None):
            raise ValueError("set gpmi_exemption exactly when gpmi_required is false")
        return self


class LeefloonRefused(RightsEvent):
    """The BCSD refused the right."""

    event_name: ClassVar[str] = "LeefloonRefused"
    event_version: ClassVar[int] = 1

    decision_id: DecisionId
    bcsd_session_on: date
    right_type: RightType
    reason: RefusalReason


class DecisionNotified(RightsEvent):
    """A decision was notified to the person on ``occurred_on`` (legal term: 8 days)."""

    event_name: ClassVar[str] = "DecisionNotified"
    event_version: ClassVar[int] = 1

    decision_id: DecisionId
    channel: NotificationChannel


class LeefloonRevised(RightsEvent):
    """A running right got a new category or amount from ``effective_from``."""

    event_name: ClassVar[str] = "LeefloonRevised"
    event_version: ClassVar[int] = 1

    decision_id: DecisionId
    grant_decision_id: DecisionId = Field(description="The grant this revision changes.")
    cause: RevisionCause
    category: LeefloonCategory = Field(
        description="Category from effective_from (may be unchanged)."
    )
    monthly_amount_cents: Cents = Field(description="New monthly amount.", examples=[134048])
    rate_valid_from: date = Field(description="Validity date of the rate table used.")
    effective_from: date


class LeefloonSuspended(RightsEvent):
    """Payment of a right is suspended for a period (open-ended if no end)."""

    event_name: ClassVar[str] = "LeefloonSuspended"
    event_version: ClassVar[int] = 1
    date_order: ClassVar[tuple[tuple[str, str], ...]] = (("suspended_from", "suspended_until"),)

    decision_id: DecisionId
    grant_decision_id: DecisionId = Field(description="The grant whose payment is suspended.")
    reason: SuspensionReason
    sanction_decision_id: DecisionId | None = Field(
        default=None, description="The SanctionImposed decision, when reason is sanction."
    )
    suspended_from: date
    suspended_until: date | None = Field(default=None, description="Last day; None = open-ended.")
    explanation: Personal[FreeText] = None


class LeefloonResumed(RightsEvent):
    """Payment of a suspended right resumes from ``resumed_from``."""

    event_name: ClassVar[str] = "LeefloonResumed"
    event_version: ClassVar[int] = 1

    grant_decision_id: DecisionId = Field(description="The grant whose payment resumes.")
    resumed_from: date = Field(description="First day paid again.")


class LeefloonEnded(RightsEvent):
    """A right ended; ``end_date`` is its last day."""

    event_name: ClassVar[str] = "LeefloonEnded"
    event_version: ClassVar[int] = 1

    decision_id: DecisionId
    grant_decision_id: DecisionId = Field(description="The grant that ends.")
    end_date: date = Field(description="Last day of the right.")
    reason: RightEndReason


class LeefloonPaid(RightsEvent):
    """The amount actually paid for one month, the base of the federal refund claims."""

    event_name: ClassVar[str] = "LeefloonPaid"
    event_version: ClassVar[int] = 1

    grant_decision_id: DecisionId = Field(description="The grant paid on.")
    month: Month = Field(examples=["2025-03"])
    amount_cents: Cents = Field(examples=[131420])
    payment_ref: Code | None = Field(default=None, description="Id in the payment system.")


class AppealLodged(RightsEvent):
    """The person appealed a decision at the labour court (arbeidsrechtbank)."""

    event_name: ClassVar[str] = "AppealLodged"
    event_version: ClassVar[int] = 1

    decision_id: DecisionId
    court: Code = Field(examples=["arbrb-antwerpen"])
    docket_ref: Code | None = Field(default=None, description="Rolnummer.", examples=["24/1234/A"])


class AppealDecided(RightsEvent):
    """The labour court decided an appeal."""

    event_name: ClassVar[str] = "AppealDecided"
    event_version: ClassVar[int] = 1

    decision_id: DecisionId = Field(description="The appealed decision.")
    outcome: AppealOutcome
    judgment_ref: Code | None = None
