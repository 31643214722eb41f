"""Crash safety of ``doorstroom projections run`` on 50,000 events: SIGTERM mid catch-up
commits the batch in hand; ``kill -9`` at random points, again and again, then a restart,
gives exactly the read models of a clean rebuild."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import pytest

from events.registry import registry
from events.subjects import Subjects
from projections import checkpoints
from projections.catalogue import PROJECTIONS
from projections.worker import run_projections
from services.bench.projections import fill
from services.db import Database
from services.embedded import NatsServer
from services.jsread import read_filtered
from services.settings import Settings
from services.store import EventStore
from services.stream import provision_event_stream
from tests.support.readmodels import dump
from tests.test_projections_support import DB_KINDS, database_url

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
EVENTS = int(os.environ.get("DOORSTROOM_CRASH_EVENTS", "50000"))
STREAM, PREFIX = "CRASH", "crash"
BATCH = 500
KILLS = 10
SEED = 20_261_124
# PostgreSQL takes a statement round trip per row; its catch-up is several times slower.
WAIT_S = {"sqlite": 240.0, "postgres": 1200.0}
KEYS = [p.key for p in PROJECTIONS]
COMMITTED = re.compile(r"(\S+): committed up to stream sequence (\d+)")
STARTING = re.compile(r"(\S+): starting at stream sequence (\d+)")
STOPPED = re.compile(r"(\S+): stopped at stream sequence (\d+)")


@pytest.fixture(scope="module")
def filled(module_nats_server: NatsServer) -> int:
    """A stream of 50,000 events (2,500 case histories of 20); its last sequence."""

    async def go() -> int:
        settings = Settings(nats_url=module_nats_server.url, stream=STREAM, subject_prefix=PREFIX)
        nc = await nats.connect(module_nats_server.url)
        try:
            await provision_event_stream(nc.jetstream(), settings)
            store = EventStore(
                nc, stream=STREAM, subjects=Subjects(PREFIX), registry=registry(), sealer=None
            )
            await fill(store, EVENTS)
            return await store.last_seq()
        finally:
            await nc.close()

    return asyncio.run(go())


@pytest.fixture(params=DB_KINDS)
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(db_kind: str, tmp_path: Path) -> Iterator[str]:
    (tmp_path / "worker").mkdir()
    yield from database_url(db_kind, str(tmp_path / "worker"))


@pytest.fixture
def rebuild_url(db_kind: str, tmp_path: Path) -> Iterator[str]:
    (tmp_path / "rebuild").mkdir()
    yield from database_url(db_kind, str(tmp_path / "rebuild"))


def settings_for(server: NatsServer, db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        nats_url=server.url,
        db=db_url,
        data_dir=tmp_path / "data",
        stream=STREAM,
        subject_prefix=PREFIX,
    )


@dataclass
class Worker:
    """A ``doorstroom projections run`` process and what its log said so far."""

    proc: asyncio.subprocess.Process
    positions: dict[str, int] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    async def line(self) -> str:
        assert self.proc.stderr is not None
        raw = await self.proc.stderr.readline()
        assert raw, f"the worker exited: {self.lines[-20:]}"
        text = raw.decode()
        self.lines.append(text)
        for pattern in (COMMITTED, STARTING):
            if found := pattern.search(text):
                self.positions[found[1]] = int(found[2])
        return text

    async def commits(self, count: int, last: int) -> None:
        """Until ``count`` more batches committed, or every projection reached ``last``."""
        seen = 0
        while seen < count and not self.at(last):
            if COMMITTED.search(await self.line()):
                seen += 1

    def at(self, last: int) -> bool:
        """Has every projection reported that it is at ``last``?"""
        return len(self.positions) == len(KEYS) and all(p == last for p in self.positions.values())

    async def until_at(self, last: int) -> None:
        while not self.at(last):
            await self.line()


@asynccontextmanager
async def worker(settings: Settings) -> AsyncIterator[Worker]:
    env = {
        **os.environ,
        "DOORSTROOM_NATS_URL": settings.nats_url or "",
        "DOORSTROOM_DB": settings.db_url,
        "DOORSTROOM_DATA_DIR": str(settings.data_dir),
        "DOORSTROOM_STREAM": settings.stream,
        "DOORSTROOM_SUBJECT_PREFIX": settings.subject_prefix,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        "projections",
        "run",
        "--batch-size",
        str(BATCH),
        "--log-level",
        "debug",
        cwd=ROOT,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield Worker(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def stored(url: str) -> tuple[dict[str, int], int, dict[str, Any]]:
    """Checkpoints, the case directory's event total, and a dump of every table."""
    db = Database.connect(url)
    try:
        positions = {k: c.position for k, c in checkpoints.checkpoints(db).items()}
        [(total,)] = checkpoints.query(
            db, "SELECT COALESCE(SUM(event_count), 0) FROM case_directory"
        )
        return positions, int(total), {p.key: dump(db, p) for p in PROJECTIONS}
    finally:
        db.close()


def directory_total(url: str) -> tuple[int, int]:
    """(checkpoint, sum of event counts) of the case directory: equal if nothing was lost
    or doubled (every event counts once for its case)."""
    db = Database.connect(url)
    try:
        position = checkpoints.checkpoints(db)["case_directory.v1"].position
        [(total,)] = checkpoints.query(
            db, "SELECT COALESCE(SUM(event_count), 0) FROM case_directory"
        )
        return position, int(total)
    finally:
        db.close()


async def clean_rebuild(settings: Settings, last: int) -> None:
    """Every projection into an empty database, in this process, until it reaches ``last``."""
    stop, reached = asyncio.Event(), dict.fromkeys(KEYS, 0)

    def progress(key: str, position: int) -> None:
        reached[key] = position
        if all(p >= last for p in reached.values()):
            stop.set()

    nc = await nats.connect(settings.nats_url or "")
    try:
        await run_projections(nc, settings, registry(), PROJECTIONS, stop, progress=progress)
    finally:
        await nc.close()


@pytest.mark.timeout(1500)
async def test_kill_9_at_random_points_then_a_restart_equals_a_clean_rebuild(
    module_nats_server: NatsServer,
    filled: int,
    db_kind: str,
    db_url: str,
    rebuild_url: str,
    tmp_path: Path,
) -> None:
    last = filled
    settings = settings_for(module_nats_server, db_url, tmp_path)
    rebuild = asyncio.create_task(
        clean_rebuild(settings_for(module_nats_server, rebuild_url, tmp_path), last)
    )
    rnd = random.Random(SEED)
    batches = len(KEYS) * -(-last // BATCH)
    # Kill points spread over about the first 80% of the catch-up, in batches committed.
    points = sorted(rnd.sample(range(1, batches * 8 // 10), KILLS))
    async with asyncio.timeout(WAIT_S[db_kind]):
        for done, point in zip([0, *points], points, strict=False):
            async with worker(settings) as w:
                await w.commits(point - done, last)
                w.proc.send_signal(signal.SIGKILL)
                assert await w.proc.wait() == -signal.SIGKILL
            position, total = directory_total(db_url)
            assert total == position <= last
        async with worker(settings) as w:
            await w.until_at(last)
            w.proc.send_signal(signal.SIGTERM)
            rest = (await w.proc.stderr.read()).decode()  # type: ignore[union-attr]
            assert await w.proc.wait() == 0, rest
        await rebuild
    for key in KEYS:
        assert f"{key}: stopped at stream sequence {last}" in rest
    positions, total, tables = stored(db_url)
    clean_positions, _, clean_tables = stored(rebuild_url)
    assert positions == clean_positions == dict.fromkeys(KEYS, last)
    assert total == last
    for key in KEYS:
        assert tables[key] == clean_tables[key], key


async def test_sigterm_mid_catch_up_commits_the_batch_in_hand_and_stops_with_exit_0(
    module_nats_server: NatsServer, filled: int, db_kind: str, db_url: str, tmp_path: Path
) -> None:
    settings = settings_for(module_nats_server, db_url, tmp_path)
    async with asyncio.timeout(WAIT_S[db_kind]), worker(settings) as w:
        await w.commits(len(KEYS) * 2, filled)
        w.proc.send_signal(signal.SIGTERM)
        rest = (await w.proc.stderr.read()).decode()  # type: ignore[union-attr]
        assert await w.proc.wait() == 0, rest
    stopped = {m[1]: int(m[2]) for m in STOPPED.finditer(rest)}
    assert sorted(stopped) == sorted(KEYS)
    assert min(stopped.values()) < filled, "the stop came after the catch-up"
    positions, total, tables = stored(db_url)
    assert positions == stopped
    assert total == stopped["case_directory.v1"]
    for key, expected in (await row_counts(module_nats_server, stopped)).items():
        table, projection = key
        assert len(tables[projection][table]) == expected, key


async def row_counts(server: NatsServer, stopped: dict[str, int]) -> dict[tuple[str, str], int]:
    """Rows that the events up to each projection's position make: a case per aid request,
    a placement per start, a claim line per submission (the generated histories)."""
    nc = await nats.connect(server.url)
    try:
        names: dict[str, Counter[str]] = {key: Counter() for key in stopped}
        async for raw in read_filtered(nc, STREAM, Subjects(PREFIX).all_events):
            for key, position in stopped.items():
                if raw.seq <= position:
                    names[key][raw.subject.rsplit(".", 1)[-1]] += 1
    finally:
        await nc.close()
    return {
        ("case_directory", "case_directory.v1"): names["case_directory.v1"]["AidRequestReceived"],
        ("caseload_cases", "caseload.v1"): names["caseload.v1"]["AidRequestReceived"],
        ("placements", "placements.v1"): names["placements.v1"]["PlacementStarted"],
        ("subsidy_claims", "subsidy_history.v1"): names["subsidy_history.v1"][
            "SubsidyClaimSubmitted"
        ],
    }
