"""Value types and checks shared by several areas of the event catalogue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from events.base import Cents, DomainEvent, Frozen, ShortText

MonthlyHours = Annotated[
    Decimal,
    Field(ge=0, le=400, max_digits=5, decimal_places=2, description="Hours in one month."),
]
TotalHours = Annotated[
    Decimal,
    Field(ge=0, le=10_000, max_digits=7, decimal_places=2, description="Total hours."),
]
Percent = Annotated[int, Field(ge=1, le=100, description="Whole percent, 1-100.")]
Insz = Annotated[
    str,
    StringConstraints(pattern=r"^\d{11}$"),
    Field(description="INSZ (rijksregisternummer) or bis-number: 11 digits, no separators."),
]
ProjectCode = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$"),
    Field(
        description="Office-defined code of a group project; any project, not only these.",
        examples=["de-moestuin", "de-busters", "de-kokkerel", "de-inspraak"],
    ),
]


def check_date_order(model: BaseModel, pairs: Iterable[tuple[str, str]]) -> None:
    """Raise if the date in ``earlier`` lies after the date in ``later`` (None means open)."""
    for earlier, later in pairs:
        first, second = getattr(model, earlier), getattr(model, later)
        if first is not None and second is not None and first > second:
            raise ValueError(
                f"{earlier} ({first}) must not lie after {later} ({second}): "
                f"a period runs from {earlier} to {later}"
            )


class CatalogueEvent(DomainEvent):
    """An event of the catalogue; ``date_order`` lists (from, to) field pairs to check."""

    date_order: ClassVar[tuple[tuple[str, str], ...]] = ()

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        check_date_order(self, self.date_order)
        return self


class CefrLevel(StrEnum):
    """Language level on the CEFR scale (ERK), as used by NT2 providers."""

    PRE_A1 = "pre_a1"
    A1 = "a1"
    A2 = "a2"
    B1 = "b1"
    B2 = "b2"
    C1 = "c1"
    C2 = "c2"


class Address(Frozen):
    """A postal address; only ever stored inside a personal (sealed) field."""

    street: ShortText
    house_number: Annotated[str, StringConstraints(min_length=1, max_length=10)]
    box: Annotated[str, StringConstraints(min_length=1, max_length=10)] | None = None
    postal_code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9 -]{3,10}$")]
    municipality: ShortText
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        default="BE", description="ISO 3166-1 alpha-2 country code."
    )


class Relation(StrEnum):
    """How a household member relates to the applicant."""

    PARTNER = "partner"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    OTHER_RELATIVE = "other_relative"
    OTHER = "other"


class HouseholdMember(Frozen):
    """One member of the applicant's actual household (the applicant excluded)."""

    relation: Relation
    birth_date: date
    dependent: bool = Field(description="Dependent on the applicant (ten laste).")


class ResourceKind(StrEnum):
    """Kinds of resources the social inquiry takes into account."""

    WAGES = "wages"
    SELF_EMPLOYED_INCOME = "self_employed_income"
    UNEMPLOYMENT_BENEFIT = "unemployment_benefit"
    SICKNESS_OR_INVALIDITY_BENEFIT = "sickness_or_invalidity_benefit"
    PENSION = "pension"
    CHILD_BENEFIT = "child_benefit"
    MAINTENANCE = "maintenance"
    PARTNER_INCOME = "partner_income"
    REAL_ESTATE = "real_estate"
    SAVINGS = "savings"
    OTHER = "other"


class Resource(Frozen):
    """One resource found in the social inquiry; only stored inside a personal field."""

    kind: ResourceKind
    monthly_amount_cents: Cents
