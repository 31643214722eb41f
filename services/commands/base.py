"""The command base class and the input bounds every command shares."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Final, Self, TypeVar
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from events.base import PERSONAL, Code, Frozen
from events.common import check_date_order
from events.envelope import CaseId, EvidenceRef, PersonRef

T = TypeVar("T")

MIN_DATE: Final = date(2000, 1, 1)
MAX_DATE: Final = date(2100, 12, 31)

PersonalIn = Annotated[T, PERSONAL, Field(json_schema_extra={"x-personal": True})]
"""A personal field a command must carry (non-null); sealed in the event it produces."""

SaneDate = Annotated[date, Field(ge=MIN_DATE, le=MAX_DATE)]
BirthDate = Annotated[date, Field(ge=date(1900, 1, 1), le=MAX_DATE)]
NameText = Annotated[str, StringConstraints(min_length=1, max_length=100)]
NoteText = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
LegalBasis = Annotated[str, StringConstraints(min_length=1, max_length=200)]

MonthlyCents = Annotated[
    int,
    Field(
        strict=True,
        ge=0,
        le=1_000_000,
        description="Euro cents for one person and month; at most EUR 10,000.",
        examples=[131420],
    ),
]
ClaimCents = Annotated[
    int,
    Field(strict=True, ge=0, le=100_000_000, description="Euro cents; at most EUR 1,000,000."),
]
BudgetCents = Annotated[
    int,
    Field(strict=True, ge=0, le=1_000_000_000, description="Euro cents; at most EUR 10,000,000."),
]


def _valid_insz(value: str) -> str:
    body, check = value[:9], int(value[9:])
    # People born from 2000 on get a "2" before the nine digits in the check.
    if check not in (97 - int(body) % 97, 97 - int("2" + body) % 97):
        raise ValueError("not a valid INSZ/bis-number: the check digits do not match")
    return value


def _valid_kbo(value: str) -> str:
    if 97 - int(value[:8]) % 97 != int(value[8:]):
        raise ValueError("not a valid KBO number: the check digits do not match")
    return value


InszIn = Annotated[
    str,
    StringConstraints(pattern=r"^\d{11}$"),
    AfterValidator(_valid_insz),
    Field(description="INSZ or bis-number, 11 digits without separators."),
]
KboIn = Annotated[
    str,
    StringConstraints(pattern=r"^[01]\d{9}$"),
    AfterValidator(_valid_kbo),
    Field(description="KBO/BCE enterprise number, 10 digits.", examples=["0207437468"]),
]

_DECLARED: list[type[Command]] = []


class Command(Frozen):
    """One user action. The entry point adds actor, office, recording time and event ids.

    Ids of new things (decision_id, placement_id, claim_id...) are fresh UUIDs chosen by the
    client, so a bulk import or a GPMI's agreement texts can refer to them at once.
    """

    command_name: ClassVar[str]
    produces: ClassVar[tuple[str, ...]]
    date_order: ClassVar[tuple[tuple[str, str], ...]] = ()

    command_id: UUID = Field(description="Idempotency key chosen by the client; retries reuse it.")
    case_id: CaseId
    occurred_on: SaneDate = Field(description="Business date: when the fact happened.")
    evidence: tuple[EvidenceRef, ...] = Field(
        default=(), max_length=100, description="Earlier events or documents the fact rests on."
    )
    legal_basis: LegalBasis | None = Field(default=None, examples=["RMI-wet 26/05/2002 art. 11"])
    rule_version: Code | None = None
    corrects: UUID | None = Field(
        default=None, description="Event id this command's event replaces (a correction)."
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "command_name" in cls.__dict__:
            _DECLARED.append(cls)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        check_date_order(self, self.date_order)
        return self


class PersonalCommand(Command):
    """A command carrying personal data: it names whose key seals it."""

    person_ref: PersonRef


def declared_commands() -> list[type[Command]]:
    """Every Command subclass that declares its own ``command_name``, in definition order."""
    return list(_DECLARED)
