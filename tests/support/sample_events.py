"""Small events for store tests, kept in their own registry (not the catalogue)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import ClassVar
from uuid import UUID, uuid4

from events.base import Cents, DomainEvent, Personal, Role
from events.envelope import Actor, EventMeta
from events.registry import EventRegistry
from services.store import Draft


class SampleNoted(DomainEvent):
    event_name: ClassVar[str] = "SampleNoted"
    n: int
    amount_cents: Cents = 0


class SamplePersonSeen(DomainEvent):
    event_name: ClassVar[str] = "SamplePersonSeen"
    label: str
    full_name: Personal[str]
    national_number: Personal[str]


SAMPLE_REGISTRY = EventRegistry()
SAMPLE_REGISTRY.register(SampleNoted)
SAMPLE_REGISTRY.register(SamplePersonSeen)

OFFICE = "31004"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def meta(
    case_id: UUID,
    *,
    office: str = OFFICE,
    event_id: UUID | None = None,
    person_ref: UUID | None = None,
) -> EventMeta:
    return EventMeta(
        event_id=event_id or uuid4(),
        office_id=office,
        case_id=case_id,
        occurred_on=date(2026, 11, 20),
        recorded_at=NOW,
        actor=Actor(user_id="u-1", role=Role.SOCIAL_WORKER),
        correlation_id=uuid4(),
        person_ref=person_ref,
    )


def noted(case_id: UUID, n: int, **kw: object) -> Draft:
    return Draft(meta(case_id, **kw), SampleNoted(n=n))  # type: ignore[arg-type]
