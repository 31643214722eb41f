"""Helpers for the projection tests: read-model databases, catalogue events, progress waits."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from uuid import UUID, uuid4

import psycopg
import pytest

from events.base import DomainEvent
from events.codec import RecordedEvent
from events.registry import registry
from projections.projection import Projection, Table, Tx
from services.store import AppendResult, Draft, EventStore
from tests.conftest import postgres_dsn
from tests.fixtures.examples import OCCURRED, example_event, example_meta

BRUGGE, GENT, LEUVEN = "31004", "44021", "24062"
WAIT_S = 20.0

DB_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def database_url(kind: str, tmp_path_name: str) -> Iterator[str]:
    """An empty read-model database: an SQLite file, or a PostgreSQL schema of its own."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path_name}/readmodels.sqlite3"
        return
    dsn = postgres_dsn()
    schema = f"proj_{uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in dsn else "?"
    try:
        yield f"{dsn}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def event(name: str, **overrides: object) -> DomainEvent:
    """A valid catalogue event by name, from the schema-driven example factory."""
    return example_event(registry().get(name), **overrides)


async def append(
    store: EventStore, case: UUID, office: str, *events: DomainEvent, on: date = OCCURRED
) -> AppendResult:
    """Append ``events`` to ``case`` as one command of ``office`` on business date ``on``."""
    drafts = [
        Draft(example_meta(event_id=uuid4(), case_id=case, office_id=office, occurred_on=on), e)
        for e in events
    ]
    return await store.append(await store.head(case), drafts)


class Progress:
    """Collects the engine's progress reports; lets a test wait for a position, bounded."""

    def __init__(self) -> None:
        self.position = 0
        self._changed = asyncio.Event()
        self.stop_after_first: asyncio.Event | None = None

    def __call__(self, key: str, position: int) -> None:
        self.position = position
        self._changed.set()
        if self.stop_after_first is not None:
            self.stop_after_first.set()

    async def reach(self, seq: int) -> None:
        async with asyncio.timeout(WAIT_S):
            while self.position < seq:
                self._changed.clear()
                await self._changed.wait()


async def three_cases(store: EventStore) -> tuple[UUID, UUID, UUID]:
    """Closed in Brugge; transferred from Brugge to Gent; open in Leuven."""
    closed, moved, open_case = uuid4(), uuid4(), uuid4()
    await append(store, closed, BRUGGE, event("AidRequestReceived"), event("PersonRegistered"))
    await append(store, moved, BRUGGE, event("AidRequestReceived"), on=date(2025, 1, 6))
    await append(store, closed, BRUGGE, event("LeefloonGranted"), on=date(2025, 2, 3))
    await append(store, moved, BRUGGE, event("CaseTransferred"))
    await append(store, open_case, LEUVEN, event("AidRequestReceived"))
    await append(store, closed, BRUGGE, event("OutflowRecorded"))
    await append(store, moved, GENT, event("TrajectoryStarted"), on=date(2025, 2, 10))
    return closed, moved, open_case


def event_log(fail_on: set[int]) -> Projection:
    """A test projection that logs every event and fails on the stream sequences given."""
    ddl = "CREATE TABLE IF NOT EXISTS test_event_log (seq BIGINT PRIMARY KEY, name TEXT NOT NULL)"
    projection = Projection("test_event_log", 1, (Table("test_event_log", (ddl,)),))

    def log_it(tx: Tx, rec: RecordedEvent) -> None:
        if rec.seq in fail_on:
            raise RuntimeError("the handler broke")
        tx.execute("INSERT INTO test_event_log (seq, name) VALUES (?, ?)", (rec.seq, rec.name))

    for name in registry().names():
        projection.on(name)(log_it)
    return projection


def names_seen(names: list[str]) -> Projection:
    """A test projection of some event names: (seq, name) of each."""
    ddl = "CREATE TABLE IF NOT EXISTS test_names (seq BIGINT, name TEXT)"
    projection = Projection("test_names", 1, (Table("test_names", (ddl,)),))

    def note(tx: Tx, rec: RecordedEvent) -> None:
        tx.execute("INSERT INTO test_names VALUES (?, ?)", (rec.seq, rec.name))

    projection.on(*names)(note)
    return projection
