"""Base classes of the event contract: domain events, personal-data marking, shared types."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")

_new = object.__new__
_set = object.__setattr__


class _PersonalMarker:
    """Marks a field as personal data: encrypted with the person's key, never in plaintext."""

    def __repr__(self) -> str:
        return "PERSONAL"


PERSONAL: Final = _PersonalMarker()

# A personal field is optional in the *event* because after erasure it reads as None;
# the commands that produce these events require the values.
Personal = Annotated[T | None, PERSONAL, Field(json_schema_extra={"x-personal": True})]

Cents = Annotated[int, Field(ge=0, le=10_000_000_000, description="Amount in euro cents.")]
SignedCents = Annotated[
    int,
    Field(ge=-10_000_000_000, le=10_000_000_000, description="Signed amount in euro cents."),
]
Hours = Annotated[
    Decimal,
    Field(ge=0, le=60, max_digits=4, decimal_places=2, description="Hours per week."),
]
Code = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:/-]+$")
]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
FreeText = Annotated[str, StringConstraints(max_length=20_000)]
Kbo = Annotated[
    str,
    StringConstraints(pattern=r"^[01]\d{9}$"),
    Field(description="KBO/BCE enterprise number, 10 digits."),
]
Month = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$"),
    Field(description="Calendar month YYYY-MM."),
]

EVENT_NAME_RE: Final = re.compile(r"^[A-Z][A-Za-z0-9]{2,60}$")


_SUBCLASSES: list[type[DomainEvent]] = []


class Frozen(BaseModel):
    """A frozen pydantic model that refuses unknown fields; errors never echo input values."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True
    )

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Pydantic's shallow copy (no validation of ``update``), in fewer steps.

        States and events are copied several times per command; a frozen model without
        extra fields or private attributes needs only its field values and the set of
        fields given, so the generic bookkeeping of ``BaseModel.model_copy`` is skipped.
        """
        if deep or self.__pydantic_private__ is not None:
            return super().model_copy(update=update, deep=deep)
        copied = _new(type(self))
        values = dict(self.__dict__)
        fields_set = set(self.__pydantic_fields_set__)
        if update:
            values.update(update)
            fields_set.update(update)
        _set(copied, "__dict__", values)
        _set(copied, "__pydantic_extra__", None)
        _set(copied, "__pydantic_fields_set__", fields_set)
        _set(copied, "__pydantic_private__", None)
        return copied


class DomainEvent(Frozen):
    """The payload of one fact. Subclasses set ``event_name`` and ``event_version``.

    The stored name (``PlacementStarted.v1``) never depends on the Python class path.
    """

    event_name: ClassVar[str]
    event_version: ClassVar[int] = 1
    area: ClassVar[str] = ""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "event_name" in cls.__dict__:
            if not EVENT_NAME_RE.match(cls.event_name):
                raise ValueError(f"invalid event name {cls.event_name!r}")
            _SUBCLASSES.append(cls)

    @classmethod
    def stored_type(cls) -> str:
        return f"{cls.event_name}.v{cls.event_version}"

    @classmethod
    def personal_fields(cls) -> frozenset[str]:
        return _personal_fields(cls)

    def public_and_personal(
        self, mode: Literal["json", "python"] = "json"
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The payload split into public fields and personal fields.

        ``json`` gives JSON-ready values; ``python`` leaves UUIDs, dates, enums and decimals
        to the codec's serializer (faster, and the same JSON).
        """
        data = self.model_dump(mode=mode)
        personal = {k: data.pop(k) for k in self.personal_fields() if k in data}
        return data, personal


def declared_events() -> list[type[DomainEvent]]:
    """Every DomainEvent subclass that declares its own ``event_name``, in definition order."""
    return list(_SUBCLASSES)


def _personal_fields(model: type[BaseModel]) -> frozenset[str]:
    cached: frozenset[str] | None = model.__dict__.get("__personal_fields__")
    if cached is None:
        cached = frozenset(
            name
            for name, info in model.model_fields.items()
            if any(m is PERSONAL for m in info.metadata)
        )
        model.__personal_fields__ = cached  # type: ignore[attr-defined]
    return cached


class Role(StrEnum):
    """Who acts. Roles follow domain.md section 4."""

    SOCIAL_WORKER = "social_worker"
    TRAJECTORY_COUNSELLOR = "trajectory_counsellor"
    JOB_COACH = "job_coach"
    AFTERCARE_COUNSELLOR = "aftercare_counsellor"
    GROUP_LEADER = "group_leader"
    HEAD_OF_SERVICE = "head_of_service"
    BCSD = "bcsd"
    FINANCE = "finance"
    INSPECTOR = "inspector"
    DPO = "dpo"
    OFFICE_SYSTEM = "office_system"
