"""The projection worker: follows new events, stops cleanly, stops on a failing projection."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from events.registry import registry
from projections import checkpoints
from projections.case_directory import case_directory, cases_of_office, get_case
from projections.projection import Projection, ProjectionError
from projections.worker import run_projections, statuses
from services.db import Database
from services.embedded import NatsServer
from services.settings import Settings
from services.store import EventStore
from tests.support.stack import store_on
from tests.test_projections_support import (
    BRUGGE,
    DB_KINDS,
    GENT,
    LEUVEN,
    Progress,
    append,
    database_url,
    event,
    event_log,
    three_cases,
)


@pytest.fixture(params=DB_KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_url(request.param, str(tmp_path))


def settings_for(nats_server: NatsServer, db_url: str, tmp_path: Path) -> Settings:
    return Settings(nats_url=nats_server.url, db=db_url, data_dir=tmp_path / "data")


def directory_total(db_url: str) -> tuple[int, int]:
    """(sum of event counts over all cases, stored checkpoint) of the case directory."""
    db = Database.connect(db_url)
    try:
        total = sum(c.event_count for o in (BRUGGE, GENT, LEUVEN) for c in cases_of_office(db, o))
        return total, checkpoints.checkpoints(db)[case_directory.key].position
    finally:
        db.close()


def start(
    store: EventStore,
    settings: Settings,
    projections: list[Projection],
    stop: asyncio.Event,
    progress: Progress,
    batch_size: int = 1000,
) -> asyncio.Task[None]:
    # The safety-net wait is far beyond the test's bounded wait: only the wake-up can pass.
    return asyncio.create_task(
        run_projections(
            store.nc,
            settings,
            registry(),
            projections,
            stop,
            batch_size=batch_size,
            idle_wait_s=600,
            progress=progress,
        )
    )


async def test_the_worker_follows_events_appended_after_catch_up(
    nats_server: NatsServer, db_url: str, tmp_path: Path
) -> None:
    settings = settings_for(nats_server, db_url, tmp_path)
    async with store_on(nats_server.url, tmp_path, registry()) as (store, _):
        await three_cases(store)
        stop, progress = asyncio.Event(), Progress()
        worker = start(store, settings, [case_directory], stop, progress)
        await progress.reach(8)
        late = uuid4()
        await append(store, late, GENT, event("AidRequestReceived"), event("LeefloonGranted"))
        await progress.reach(10)
        stop.set()
        await asyncio.wait_for(worker, 20)
        [status] = await statuses(store.nc, settings, [case_directory])
    assert (status.position, status.last_seq, status.lag) == (10, 10, 0)
    db = Database.connect(db_url)
    try:
        row = get_case(db, late, office_id=GENT)
    finally:
        db.close()
    assert row is not None
    assert (row.event_count, row.last_event) == (2, "LeefloonGranted")
    assert directory_total(db_url) == (10, 10)


async def test_a_stop_finishes_the_batch_in_hand_and_commits_it(
    nats_server: NatsServer, db_url: str, tmp_path: Path
) -> None:
    settings = settings_for(nats_server, db_url, tmp_path)
    async with store_on(nats_server.url, tmp_path, registry()) as (store, _):
        await three_cases(store)
        stop, progress = asyncio.Event(), Progress()
        progress.stop_after_first = stop
        await asyncio.wait_for(start(store, settings, [case_directory], stop, progress, 3), 20)
    assert directory_total(db_url) == (3, 3)


async def test_a_failing_projection_stops_the_worker_with_its_error(
    nats_server: NatsServer, db_url: str, tmp_path: Path
) -> None:
    settings = settings_for(nats_server, db_url, tmp_path)
    async with store_on(nats_server.url, tmp_path, registry()) as (store, _):
        await three_cases(store)
        stop = asyncio.Event()
        worker = start(store, settings, [case_directory, event_log({3})], stop, Progress(), 2)
        with pytest.raises(
            ProjectionError, match=r"test_event_log\.v1 stopped at stream sequence 3"
        ):
            await asyncio.wait_for(worker, 20)
        assert stop.is_set()
    total, position = directory_total(db_url)
    assert total == position
