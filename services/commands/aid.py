"""Commands of the aid request: receive it, register the person, the social inquiry."""

from __future__ import annotations

from typing import Annotated, ClassVar, Self

from pydantic import Field, model_validator

from events.aid import Channel, RequestedAid, WithdrawalReason
from events.base import Frozen, Personal
from events.common import Address, HouseholdMember, ResourceKind
from events.rights import LeefloonCategory
from services.commands.base import (
    BirthDate,
    Command,
    InszIn,
    MonthlyCents,
    NameText,
    NoteText,
    PersonalCommand,
    PersonalIn,
)

Household = Annotated[tuple[HouseholdMember, ...], Field(max_length=30)]


class ResourceIn(Frozen):
    """One resource found in the social inquiry."""

    kind: ResourceKind
    monthly_amount_cents: MonthlyCents


class ReceiveAidRequest(Command):
    """Record an incoming aid request; ``occurred_on`` is the day it was received."""

    command_name: ClassVar[str] = "ReceiveAidRequest"
    produces: ClassVar[tuple[str, ...]] = ("AidRequestReceived",)

    channel: Channel
    requested: RequestedAid


class RegisterPerson(PersonalCommand):
    """Record the applicant's identity, address and household."""

    command_name: ClassVar[str] = "RegisterPerson"
    produces: ClassVar[tuple[str, ...]] = ("PersonRegistered",)

    national_number: PersonalIn[InszIn]
    family_name: PersonalIn[NameText]
    given_names: PersonalIn[NameText]
    birth_date: PersonalIn[BirthDate]
    address: PersonalIn[Address]
    household: PersonalIn[Household] = Field(description="Other members; empty if alone.")


class UpdatePersonDetails(PersonalCommand):
    """Record a change in the person's data (a move, a birth); give only what changed."""

    command_name: ClassVar[str] = "UpdatePersonDetails"
    produces: ClassVar[tuple[str, ...]] = ("PersonDetailsUpdated",)

    national_number: Personal[InszIn] = None
    family_name: Personal[NameText] = None
    given_names: Personal[NameText] = None
    birth_date: Personal[BirthDate] = None
    address: Personal[Address] = None
    household: Personal[Household] = None

    @model_validator(mode="after")
    def _something_changed(self) -> Self:
        fields = ("national_number", "family_name", "given_names", "birth_date", "address")
        if all(getattr(self, f) is None for f in (*fields, "household")):
            raise ValueError(f"give at least one of {', '.join(fields)}, household")
        return self


class CompleteSocialInquiry(PersonalCommand):
    """Record the outcome of the social inquiry."""

    command_name: ClassVar[str] = "CompleteSocialInquiry"
    produces: ClassVar[tuple[str, ...]] = ("SocialInquiryCompleted",)

    home_visit: bool
    proposed_category: LeefloonCategory | None = None
    household: PersonalIn[Household]
    resources: PersonalIn[Annotated[tuple[ResourceIn, ...], Field(max_length=50)]]
    health_equity_findings: Personal[NoteText] = None
    notes: Personal[NoteText] = None


class WithdrawAidRequest(Command):
    """Close a request without a decision."""

    command_name: ClassVar[str] = "WithdrawAidRequest"
    produces: ClassVar[tuple[str, ...]] = ("AidRequestWithdrawn",)

    reason: WithdrawalReason
