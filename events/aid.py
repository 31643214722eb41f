"""Events of the aid request: the request, the person, the social inquiry."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field

from events.base import FreeText, Personal, ShortText
from events.common import (
    Address,
    CatalogueEvent,
    HouseholdMember,
    Insz,
    Resource,
)
from events.rights import LeefloonCategory

Household = tuple[HouseholdMember, ...]
Resources = tuple[Resource, ...]


class AidEvent(CatalogueEvent):
    area: ClassVar[str] = "aid"


class Channel(StrEnum):
    """How a request reached the OCMW."""

    COUNTER = "counter"
    OCMW_ONLINE = "ocmw_online"
    LETTER = "letter"
    EMAIL = "email"
    HOME_VISIT = "home_visit"
    REFERRAL = "referral"


class RequestedAid(StrEnum):
    """What the applicant asks for."""

    LEEFLOON = "leefloon"
    EQUIVALENT_LEEFLOON = "equivalent_leefloon"
    OTHER_SOCIAL_AID = "other_social_aid"


class PersonField(StrEnum):
    """Groups of personal data a PersonDetailsUpdated can change."""

    NATIONAL_NUMBER = "national_number"
    NAME = "name"
    ADDRESS = "address"
    BIRTH_DATE = "birth_date"
    HOUSEHOLD = "household"


class WithdrawalReason(StrEnum):
    """Why a request ended without a decision."""

    APPLICANT_WITHDREW = "applicant_withdrew"
    APPLICANT_UNREACHABLE = "applicant_unreachable"


class AidRequestReceived(AidEvent):
    """An aid request was received; ``occurred_on`` is the day of receipt (starts the terms)."""

    event_name: ClassVar[str] = "AidRequestReceived"
    event_version: ClassVar[int] = 1

    channel: Channel = Field(examples=["ocmw_online"])
    requested: RequestedAid = Field(examples=["leefloon"])


class PersonRegistered(AidEvent):
    """The applicant's identity was recorded; every identifying field is sealed."""

    event_name: ClassVar[str] = "PersonRegistered"
    event_version: ClassVar[int] = 1

    national_number: Personal[Insz] = None
    family_name: Personal[ShortText] = None
    given_names: Personal[ShortText] = None
    birth_date: Personal[date] = None
    address: Personal[Address] = None
    household: Personal[Household] = None


class PersonDetailsUpdated(AidEvent):
    """The person's data changed (a move, a new household member), not a correction."""

    event_name: ClassVar[str] = "PersonDetailsUpdated"
    event_version: ClassVar[int] = 1

    changed: Annotated[tuple[PersonField, ...], Field(min_length=1, max_length=5)] = Field(
        description="Which groups changed; the new values are in the sealed fields.",
        examples=[["address"]],
    )
    national_number: Personal[Insz] = None
    family_name: Personal[ShortText] = None
    given_names: Personal[ShortText] = None
    birth_date: Personal[date] = None
    address: Personal[Address] = None
    household: Personal[Household] = None


class SocialInquiryCompleted(AidEvent):
    """The social inquiry established household, resources and the category that applies."""

    event_name: ClassVar[str] = "SocialInquiryCompleted"
    event_version: ClassVar[int] = 1

    home_visit: bool = Field(description="The inquiry included a home visit.")
    proposed_category: LeefloonCategory | None = Field(
        default=None, description="Category the inquiry supports; None if no right is proposed."
    )
    household: Personal[Household] = None
    resources: Personal[Resources] = None
    health_equity_findings: Personal[FreeText] = Field(
        default=None,
        description="Health or equity findings (GDPR art. 9), e.g. grounds for a GPMI exemption.",
    )
    notes: Personal[FreeText] = None


class AidRequestWithdrawn(AidEvent):
    """A request ended without a decision."""

    event_name: ClassVar[str] = "AidRequestWithdrawn"
    event_version: ClassVar[int] = 1

    reason: WithdrawalReason
