"""Events of outflow: leaving the leefloon, and checks that work lasts."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from events.base import Hours, Kbo
from events.common import CatalogueEvent


class OutflowEvent(CatalogueEvent):
    area: ClassVar[str] = "outflow"


class OutflowReason(StrEnum):
    """Why the person no longer needs the right (maps onto the POD MI outflow classes)."""

    WORK = "work"
    OWN_BUSINESS = "own_business"
    TRAINING = "training"
    MAATWERK = "maatwerk"
    UNEMPLOYMENT_BENEFIT = "unemployment_benefit"
    INVALIDITY = "invalidity"
    PENSION = "pension"
    MOVED = "moved"
    PARTNER_INCOME = "partner_income"
    DECEASED = "deceased"
    UNKNOWN = "unknown"


class VerificationSource(StrEnum):
    """Where an employment check got its answer."""

    DIMONA = "dimona"
    DMFA = "dmfa"
    EMPLOYER_STATEMENT = "employer_statement"
    PAYSLIP = "payslip"
    SELF_DECLARATION = "self_declaration"


class EmploymentContract(StrEnum):
    """Kind of employment found."""

    OPEN_ENDED = "open_ended"
    FIXED_TERM = "fixed_term"
    TEMPORARY_AGENCY = "temporary_agency"
    ART60 = "art60"
    SELF_EMPLOYED = "self_employed"
    FLEXI_JOB = "flexi_job"


class OutflowRecorded(OutflowEvent):
    """The person left the (equivalent) leefloon for a reason."""

    event_name: ClassVar[str] = "OutflowRecorded"
    event_version: ClassVar[int] = 1

    reason: OutflowReason = Field(examples=["work"])
    outflow_on: date = Field(description="First day without the right.")
    placement_id: UUID | None = Field(
        default=None, description="The placement the outflow follows, if any."
    )


class EmploymentVerified(OutflowEvent):
    """An employment check on ``occurred_on``; ``employed`` false records that work stopped."""

    event_name: ClassVar[str] = "EmploymentVerified"
    event_version: ClassVar[int] = 1

    source: VerificationSource = Field(examples=["dimona"])
    employed: bool
    contract_type: EmploymentContract | None = None
    employer_kbo: Kbo | None = None
    employed_since: date | None = None
    hours_per_week: Hours | None = None
