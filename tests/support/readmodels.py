"""Helpers for the read-model tests: write crafted histories, run projections, dump their tables."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import nats

from events.base import DomainEvent, Role
from events.envelope import Actor, EventMeta, EvidenceRef
from events.registry import registry
from events.subjects import Subjects
from projections import checkpoints
from projections.engine import Runner
from projections.projection import Projection
from services.db import Database
from services.settings import Settings
from services.store import Draft, EventStore
from services.stream import provision_event_stream
from tests.test_projections_support import database_url

CLERK = Actor(user_id="u-fin-1", role=Role.FINANCE)


def recorded(on: date) -> datetime:
    """Recorded the morning after the business date."""
    return datetime.combine(on + timedelta(days=1), time(9, 0), tzinfo=UTC)


def on_event(event_id: UUID) -> EvidenceRef:
    return EvidenceRef(kind="event", ref=str(event_id))


@dataclass
class Writer:
    """Appends crafted events one command at a time and remembers each one's event id."""

    store: EventStore
    ids: list[UUID] = field(default_factory=list)

    async def add(
        self,
        case: UUID,
        office: str,
        event: DomainEvent,
        *,
        on: date,
        actor: Actor = CLERK,
        evidence: Sequence[EvidenceRef] = (),
        person: UUID | None = None,
        corrects: UUID | None = None,
        rule_version: str | None = None,
        at: datetime | None = None,
    ) -> UUID:
        meta = EventMeta(
            event_id=uuid4(),
            office_id=office,
            case_id=case,
            occurred_on=on,
            recorded_at=at or recorded(on),
            actor=actor,
            evidence=tuple(evidence),
            rule_version=rule_version,
            correlation_id=uuid4(),
            person_ref=person,
            corrects=corrects,
        )
        await self.store.append(await self.store.head(case), [Draft(meta, event)])
        self.ids.append(meta.event_id)
        return meta.event_id


def runner_for(
    projection: Projection, db: Database, store: EventStore, batch_size: int = 1000
) -> Runner:
    return Runner(
        projection,
        db,
        store.nc,
        stream=store.stream,
        subjects=store.subjects,
        registry=store.registry,
        batch_size=batch_size,
    )


async def caught_up(
    projection: Projection, db: Database, store: EventStore, batch_size: int = 1000
) -> Runner:
    runner = runner_for(projection, db, store, batch_size)
    await runner.install()
    await runner.catch_up()
    return runner


def dump(db: Database, projection: Projection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of ``projection``, sorted: equal dumps mean equal read models."""
    return {
        table.name: sorted(
            checkpoints.query(db, f"SELECT * FROM {table.name}"),
            key=repr,
        )
        for table in projection.tables
    }


@asynccontextmanager
async def fresh_store(url: str) -> AsyncIterator[EventStore]:
    """A store on a stream (and subject prefix) of its own on a shared server, deleted after."""
    name = uuid4().hex[:10]
    settings = Settings(nats_url=url, stream=f"RM{name}".upper(), subject_prefix=f"rm{name}")
    nc = await nats.connect(url)
    try:
        await provision_event_stream(nc.jetstream(), settings)
        yield EventStore(
            nc,
            stream=settings.stream,
            subjects=Subjects(settings.subject_prefix),
            registry=registry(),
            sealer=None,
        )
        await nc.jetstream().delete_stream(settings.stream)
    finally:
        await nc.close()


@contextmanager
def fresh_database(kind: str, parent: Path) -> Iterator[Database]:
    """An empty read-model database: an SQLite file, or a PostgreSQL schema of its own."""
    directory = parent / uuid4().hex
    directory.mkdir()
    with contextmanager(database_url)(kind, str(directory)) as url:
        db = Database.connect(url)
        try:
            yield db
        finally:
            db.close()
