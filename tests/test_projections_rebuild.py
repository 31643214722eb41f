"""``projections rebuild``: replay into new tables, swap atomically; old tables answer meanwhile."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from events.registry import registry
from projections import checkpoints
from projections.case_directory import case_directory
from projections.rebuild import SwapHook, rebuild
from projections.worker import run_projections
from services.cli import app
from services.db import Database
from services.embedded import NatsServer
from services.settings import Settings
from services.store import EventStore
from tests.support.readmodels import caught_up, dump, fresh_database, fresh_store
from tests.support.stack import store_on
from tests.test_projections_support import (
    DB_KINDS,
    GENT,
    Progress,
    append,
    database_url,
    event,
    three_cases,
)
from tests.test_readmodel_caseload import caseload_of_three, gpmi_cases
from tests.test_readmodel_placements import six_placements
from tests.test_readmodel_replay import READ_MODELS, corrections

Dump = dict[str, dict[str, list[tuple[Any, ...]]]]


@contextmanager
def read_model_url(kind: str, tmp_path: Path) -> Iterator[str]:
    directory = tmp_path / uuid4().hex
    directory.mkdir()
    yield from database_url(kind, str(directory))


def dumps(url: str) -> Dump:
    db = Database.connect(url)
    try:
        return {p.key: dump(db, p) for p in READ_MODELS}
    finally:
        db.close()


class Observer:
    """Reads every read-model table from its own connection, over and over, in a thread.

    Each single query must return a table exactly as it was before or after the swap.
    """

    def __init__(self, url: str, allowed: list[Dump]) -> None:
        self.url, self.allowed = url, allowed
        self.reads = 0
        self.wrong: list[str] = []
        self._read = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        db = Database.connect(self.url)
        try:
            while not self._stop.is_set():
                for p in READ_MODELS:
                    for table, rows in dump(db, p).items():
                        if all(rows != d[p.key][table] for d in self.allowed):
                            self.wrong.append(f"{table}: {len(rows)} rows")
                        with self._read:
                            self.reads += 1
                            self._read.notify_all()
        finally:
            db.close()

    def read_more(self, count: int) -> None:
        """Wait until the observer has read ``count`` more tables (bounded)."""
        with self._read:
            target = self.reads + count
            if not self._read.wait_for(lambda: self.reads >= target, timeout=20):
                raise TimeoutError("the observer stopped reading")

    def __enter__(self) -> Observer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.mark.parametrize("kind", DB_KINDS)
async def test_queries_get_the_old_tables_whole_until_the_swap_then_the_new_ones(
    module_nats_server: NatsServer, tmp_path: Path, kind: str
) -> None:
    async with fresh_store(module_nats_server.url) as store:
        await caseload_of_three(store)
        await six_placements(store)
        with read_model_url(kind, tmp_path) as url:
            db = Database.connect(url)
            try:
                for projection in READ_MODELS:
                    await caught_up(projection, db, store)
            finally:
                db.close()
            before = dumps(url)
            # Events the old tables never see: the rebuilt ones differ from them.
            await gpmi_cases(store)
            await corrections(store)
            with fresh_database(kind, tmp_path) as full:
                for projection in READ_MODELS:
                    await caught_up(projection, full, store)
                after = {p.key: dump(full, p) for p in READ_MODELS}
            assert after != before

            seen_during: list[Dump] = []

            async def last_look() -> None:
                seen_during.append(dumps(url))

            with Observer(url, [before, after]) as observer:
                result = await rebuild(
                    store.nc,
                    url,
                    stream=store.stream,
                    subjects=store.subjects,
                    registry=store.registry,
                    projections=READ_MODELS,
                    batch_size=7,
                    progress=lambda _: seen_during.append(dumps(url)),
                    before_swap=last_look,
                )
                # Let it read the swapped tables too: every table twice more.
                await asyncio.to_thread(observer.read_more, 2 * sum(len(t) for t in after.values()))
            last = await store.last_seq()
            assert len(seen_during) > 5
            assert all(d == before for d in seen_during)
            assert dumps(url) == after
            assert observer.reads > 0
            assert observer.wrong == []
            assert (result.position, result.events) == (last, last)
            db = Database.connect(url)
            try:
                stored = checkpoints.checkpoints(db)
                assert {k: stored[k].position for k in after} == dict.fromkeys(after, last)
                owners = checkpoints.query(db, "SELECT DISTINCT projection FROM projection_tables")
                assert {r[0] for r in owners} == set(after)
            finally:
                db.close()


def settings_for(server: NatsServer, db_url: str, tmp_path: Path) -> Settings:
    return Settings(nats_url=server.url, db=db_url, data_dir=tmp_path / "data")


def directory_total(db_url: str) -> tuple[int, int]:
    """(sum of event counts over all cases, stored checkpoint) of the case directory."""
    db = Database.connect(db_url)
    try:
        rows = checkpoints.query(db, "SELECT COALESCE(SUM(event_count), 0) FROM case_directory")
        return int(rows[0][0]), checkpoints.checkpoints(db)[case_directory.key].position
    finally:
        db.close()


async def rebuild_directory(store: EventStore, url: str, before_swap: SwapHook) -> int:
    result = await rebuild(
        store.nc,
        url,
        stream=store.stream,
        subjects=store.subjects,
        registry=store.registry,
        projections=[case_directory],
        batch_size=3,
        before_swap=before_swap,
    )
    return result.position


@pytest.mark.parametrize("kind", DB_KINDS)
async def test_a_running_worker_continues_from_the_rebuilt_checkpoint(
    nats_server: NatsServer, tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    with read_model_url(kind, tmp_path) as url:
        settings = settings_for(nats_server, url, tmp_path)
        async with store_on(nats_server.url, tmp_path, registry()) as (store, _):
            await three_cases(store)
            stop, progress = asyncio.Event(), Progress()
            worker = asyncio.create_task(
                run_projections(
                    store.nc,
                    settings,
                    registry(),
                    [case_directory],
                    stop,
                    batch_size=2,
                    idle_wait_s=600,
                    progress=progress,
                )
            )
            await progress.reach(8)

            async def worker_moves_ahead() -> None:
                await append(store, uuid4(), GENT, event("AidRequestReceived"))
                await progress.reach(9)

            # The worker is ahead of the rebuilt tables when they are swapped in: its next
            # checkpoint is refused, and it goes back to the rebuilt position, not past it.
            assert await rebuild_directory(store, url, worker_moves_ahead) == 8
            await append(store, uuid4(), GENT, event("AidRequestReceived"), event("CaseClosed"))
            await progress.reach(11)
            stop.set()
            await asyncio.wait_for(worker, 20)
        assert directory_total(url) == (11, 11)
        refused = caplog.text
        assert refused.count("checkpoint of case_directory.v1 refused: 9 -> ") == 1


def test_rebuild_on_the_command_line(
    nats_server: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with read_model_url("sqlite", tmp_path) as url:
        for key, value in {
            "DOORSTROOM_NATS_URL": nats_server.url,
            "DOORSTROOM_DB": url,
            "DOORSTROOM_DATA_DIR": str(tmp_path / "data"),
        }.items():
            monkeypatch.setenv(key, value)

        async def fill() -> None:
            async with store_on(nats_server.url, tmp_path, registry()) as (store, _):
                await three_cases(store)

        asyncio.run(fill())
        neither = CliRunner().invoke(app, ["projections", "rebuild"])
        assert neither.exit_code == 2
        assert "name the projections to rebuild, or give --all" in neither.output
        done = CliRunner().invoke(app, ["projections", "rebuild", "case_directory"])
        assert done.exit_code == 0, done.output
        assert "rebuilt case_directory.v1 to stream sequence 8: 8 events" in done.output
        assert directory_total(url) == (8, 8)
        again = CliRunner().invoke(app, ["projections", "rebuild", "--all"])
        assert again.exit_code == 0, again.output
        assert directory_total(url) == (8, 8)
