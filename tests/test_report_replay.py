"""The report replay builds exactly the ``report_facts`` rows of the engine's full decoding,
from the raw records and over ranges in child processes, and stops on a bad record where
the engine does."""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import nats
import orjson
import pytest

from events.case import EventRetracted, RetractionReason
from events.codec import parse
from events.registry import registry
from events.subjects import Subjects
from events.subsidies import SubsidyScheme
from projections.projection import ProjectionError
from projections.reports.extract import _fast
from projections.reports.facts import report_facts
from projections.reports.ranges import Job
from projections.reports.replay import (
    SCRATCH_PREFIX,
    _sweep_stale_folders,
    as_known_on,
    memory_database,
    replay_facts,
)
from services.bench.projections import fill
from services.embedded import NatsServer
from services.jsread import read_batches
from services.store import EventStore
from tests.support import histories as h
from tests.support.readmodels import Writer, caught_up, fresh_store
from tests.test_projections_support import BRUGGE, GENT

STORED = Path(__file__).parent / "fixtures" / "stored"
Row = tuple[Any, ...]


def rows_of(db: Any) -> list[Row]:
    """Every row in stream order, the payload (JSON, read by parsing) parsed."""
    rows = db.execute("SELECT * FROM rf_events ORDER BY seq").fetchall()
    return [(*r[:9], orjson.loads(r[9]), *r[10:]) for r in rows]


@pytest.fixture
async def store(module_nats_server: NatsServer) -> AsyncIterator[EventStore]:
    async with fresh_store(module_nats_server.url) as event_store:
        yield event_store


async def engine_rows(store: EventStore, known_on: date | None = None) -> list[Row]:
    """The rows of the engine's ``Runner`` over ``report_facts`` (full decode per event)."""
    db = memory_database()
    try:
        await caught_up(as_known_on(report_facts, known_on), db, store, batch_size=97)
        return rows_of(db)
    finally:
        db.close()


async def replayed_rows(
    store: EventStore, known_on: date | None = None, *, processes: int = 1
) -> list[Row]:
    db = memory_database()
    try:
        read = await replay_facts(
            db,
            store.nc,
            stream=store.stream,
            subjects=store.subjects,
            registry=store.registry,
            known_on=known_on,
            batch_size=97,
            processes=processes,
            min_range=50,
        )
        assert read == await store.last_seq()
        return rows_of(db)
    finally:
        db.close()


async def publish_raw(store: EventStore, record: dict[str, Any] | bytes) -> int:
    """Put a stored record on its event subject as is (as an old writer left it)."""
    if isinstance(record, bytes):
        body, subject = record, store.subjects.event(BRUGGE, uuid4(), "LeefloonPaid")
    else:
        body = orjson.dumps(record)
        subject = store.subjects.event(record["office_id"], record["case_id"], record["type"])
    ack = await store.nc.jetstream().publish(subject, body, stream=store.stream)
    return int(ack.seq)


async def raw_records(store: EventStore) -> list[tuple[int, str, bytes]]:
    out: list[tuple[int, str, bytes]] = []
    async for raws in read_batches(store.nc, store.stream, store.subjects.all_events):
        out.extend((r.seq, r.subject, r.data) for r in raws)
    return out


def at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=UTC)


async def write_takebacks(store: EventStore) -> None:
    """Retractions of retractions and corrections, recorded on different days."""
    w, case, decision = Writer(store), uuid4(), uuid4()
    granted = await w.add(
        case,
        BRUGGE,
        h.granted(decision, decided_on=date(2025, 1, 1), effective_from=date(2025, 1, 1)),
        on=date(2025, 1, 1),
    )

    async def retract(target: UUID, on: date, case_id: UUID = case) -> UUID:
        reason = RetractionReason.RECORDED_IN_ERROR
        event = EventRetracted(retracted_event_id=target, reason=reason)
        return await w.add(case_id, BRUGGE, event, on=on)

    first = await retract(granted, date(2025, 2, 1))
    second = await retract(first, date(2025, 2, 3))
    await retract(second, date(2025, 2, 10))
    claim_id, other = uuid4(), uuid4()
    submitted = await w.add(
        case,
        BRUGGE,
        h.claim(claim_id, SubsidyScheme.RMI_BASE, "2025-03", 72281, decision=decision),
        on=date(2025, 4, 1),
    )
    fixed = await w.add(
        case,
        BRUGGE,
        h.claim(claim_id, SubsidyScheme.RMI_BASE, "2025-03", 70000, decision=decision),
        on=date(2025, 4, 5),
        corrects=submitted,
    )
    await retract(fixed, date(2025, 4, 8))  # the original claim counts again
    # a retraction of an event of another case takes nothing back here
    other_case = uuid4()
    paid = await w.add(
        other_case,
        GENT,
        h.claim(other, SubsidyScheme.GPMI, "2025-03", 13142, gpmi=uuid4()),
        on=date(2025, 3, 1),
    )
    await retract(paid, date(2025, 3, 2), case_id=other_case)
    await retract(uuid4(), date(2025, 3, 3))  # names an event that never was


def old_versions() -> list[dict[str, Any]]:
    """Stored records of earlier event versions (read through the upcasters)."""
    names = ("LeefloonGranted.v1.json", "LeefloonGranted.v2.json", "PlacementStarted.v1.json")
    return [json.loads((STORED / n).read_text(encoding="utf-8")) for n in names]


def odd_forms(records: list[tuple[int, str, bytes]]) -> list[dict[str, Any]]:
    """Current-version records whose values pydantic reads but writes back otherwise."""
    out = []
    for index, (_seq, _subject, data) in enumerate(records[:6]):
        record = parse(data)
        record["event_id"] = str(uuid4()).upper() if index % 2 else uuid4().hex
        if index == 1:
            record["recorded_at"] = record["recorded_at"].replace("Z", "+00:00")
        if index == 2:
            record["recorded_at"] = record["recorded_at"].replace("T09:00:00Z", "T09:00:00.5Z")
        if index == 3:
            record["data"] = {k: v for k, v in record["data"].items() if v is not None}
        out.append(record)
    return out


async def test_the_rows_are_the_engines_for_every_stream_range_and_cut_off(
    store: EventStore, caplog: pytest.LogCaptureFixture
) -> None:
    await fill(store, 400)
    await write_takebacks(store)
    for record in old_versions():
        await publish_raw(store, record)
    for record in odd_forms(await raw_records(store)):
        await publish_raw(store, record)
    await fill(store, 200)

    everything = len(await engine_rows(store))
    assert everything > 550
    for known_on in (None, date(2025, 2, 1), date(2025, 2, 3), date(2025, 4, 6)):
        expected = await engine_rows(store, known_on)
        assert 0 < len(expected) <= everything
        assert await replayed_rows(store, known_on) == expected, known_on
        for processes in (2, 3):
            with caplog.at_level("WARNING", logger="doorstroom.reports"):
                assert await replayed_rows(store, known_on, processes=processes) == expected
    assert not caplog.records  # every child did its range
    voided = [r for r in await engine_rows(store) if r[11] is not None]
    # the grant (the first retraction counts again), the second retraction, the correction
    # (retracted: the claim it corrected counts again) and the other case's claim
    assert [r[3] for r in voided] == [
        "LeefloonGranted",
        "EventRetracted",
        "SubsidyClaimSubmitted",
        "SubsidyClaimSubmitted",
    ]


async def test_current_version_records_take_the_fast_way_and_old_ones_do_not(
    store: EventStore,
) -> None:
    await fill(store, 60)
    records = await raw_records(store)
    registry = store.registry
    fast = [
        _fast(parse(data), seq, subject.rsplit(".", 1)[-1], registry, None)
        for seq, subject, data in records
        if subject.rsplit(".", 1)[-1] in report_facts.handles
    ]
    assert len(fast) == 57
    assert all(fast)
    for record in [*old_versions(), *odd_forms(records)]:
        assert _fast(record, 1, record["type"], registry, None) is None


async def engine_error(store: EventStore) -> str:
    with pytest.raises(ProjectionError) as stopped:
        await engine_rows(store)
    return str(stopped.value)


async def replay_error(store: EventStore, processes: int) -> str:
    with pytest.raises(ProjectionError) as stopped:
        await replayed_rows(store, processes=processes)
    return str(stopped.value)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"[1, 2]", id="not-an-object"),
        pytest.param("actor", id="no-actor"),
        pytest.param("amount_cents", id="payload-field-missing"),
    ],
)
async def test_a_bad_record_stops_the_replay_at_its_sequence_like_the_engine(
    store: EventStore, bad: bytes | str
) -> None:
    await fill(store, 200)
    if isinstance(bad, bytes):
        seq = await publish_raw(store, bad)
    else:
        record = next(
            parse(data) for _s, subject, data in await raw_records(store) if "Paid" in subject
        )
        record.pop(bad, None)
        record["data"].pop(bad, None)
        seq = await publish_raw(store, record)
    await fill(store, 20)
    expected = await engine_error(store)
    assert f"stream sequence {seq}:" in expected
    for processes in (1, 2):
        assert await replay_error(store, processes) == expected


async def test_the_first_failure_wins_across_ranges_and_a_clash_between_ranges_is_one(
    store: EventStore,
) -> None:
    await fill(store, 200)
    records = await raw_records(store)
    first_paid = next(data for _s, subject, data in records if "Paid" in subject)
    copy_seq = await publish_raw(store, parse(first_paid))  # the same event id again
    await fill(store, 100)
    await publish_raw(store, b"{not json")
    expected = await engine_error(store)
    assert f"stream sequence {copy_seq}:" in expected
    assert "UNIQUE constraint failed: rf_events.event_id" in expected
    for processes in (1, 2, 3):
        assert await replay_error(store, processes) == expected


async def test_the_rows_are_the_engines_for_a_simulated_stream(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    from services.settings import Settings
    from services.simulate import SimulationConfig, import_simulation, simulate

    config = SimulationConfig(offices=6, clients=60, seed=7, employers=50)
    simulate(config, tmp_path / "sim", today=date(2026, 11, 23))
    settings = Settings(nats_url=nats_server.url, data_dir=tmp_path / "var")
    summary = await import_simulation(settings, tmp_path / "sim")
    assert summary.rejected == 0
    nc = await nats.connect(nats_server.url)
    try:
        store = EventStore(
            nc,
            stream=settings.stream,
            subjects=Subjects(settings.subject_prefix),
            registry=registry(),
            sealer=None,
        )
        records = [parse(data) for _s, _subject, data in await raw_records(store)]
        assert any(r["sealed"] for r in records)  # personal fields, sealed
        middle = sorted(r["recorded_at"] for r in records)[len(records) // 2]
        for known_on in (None, date.fromisoformat(middle[:10])):
            expected = await engine_rows(store, known_on)
            assert len(expected) > 1000
            for processes in (1, 2):
                assert await replayed_rows(store, known_on, processes=processes) == expected
    finally:
        await nc.close()


async def test_a_range_whose_child_cannot_connect_is_read_here(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import projections.reports.replay as replay

    def nowhere(nc: object) -> dict[str, object]:
        return {"servers": ["nats://127.0.0.1:1"], "max_reconnect_attempts": 1}

    monkeypatch.setattr(replay, "connect_options", nowhere)
    await fill(store, 200)
    await write_takebacks(store)
    expected = await engine_rows(store)
    assert await replayed_rows(store, processes=2) == expected


async def test_children_connect_with_the_parents_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from services.settings import Settings
    from services.stream import provision_event_stream

    config = 'authorization { token: "s3cret-token" }'
    with NatsServer(store_dir=tmp_path / "nats", extra_config=config) as server:
        nc = await nats.connect(server.url, token="s3cret-token")
        try:
            settings = Settings(nats_url=server.url, stream="TOKENED")
            await provision_event_stream(nc.jetstream(), settings)
            store = EventStore(
                nc, stream="TOKENED", subjects=Subjects(), registry=registry(), sealer=None
            )
            await fill(store, 200)
            expected = await engine_rows(store)
            with caplog.at_level("WARNING", logger="doorstroom.reports"):
                assert await replayed_rows(store, processes=2) == expected
            assert not caplog.records  # no child failed (its range was not read here instead)
        finally:
            await nc.close()


async def test_a_range_child_whose_parent_is_gone_stops_and_removes_its_file(
    tmp_path: Path,
) -> None:
    # A server that accepts and never speaks keeps the child connecting; meanwhile its
    # parent "dies": the child's stdin ends before any answer was read.
    silent = socket.create_server(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    path = tmp_path / "1.db"
    path.write_bytes(b"")
    job = Job(
        {"servers": [f"nats://127.0.0.1:{port}"], "max_reconnect_attempts": 2},
        "DOORSTROOM",
        Subjects(),
        1,
        10,
        None,
        str(path),
    )
    payload = pickle.dumps(job)
    root = str(Path(__file__).resolve().parents[1])
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from projections.reports.ranges import main; main()",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": root},
    )
    assert child.stdin is not None
    child.stdin.write(len(payload).to_bytes(8, "big") + payload)
    await child.stdin.drain()
    child.stdin.close()
    try:
        assert await asyncio.wait_for(child.wait(), 60) == 1
    finally:
        silent.close()
    assert not path.exists()


def test_range_folders_of_replays_that_are_gone_are_swept(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(gone.stdout)
    stale = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{dead_pid}-"))
    (stale / "1.db").write_bytes(b"rows")
    mine = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    try:
        _sweep_stale_folders()
        assert not stale.exists()
        assert mine.exists()
    finally:
        shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)
