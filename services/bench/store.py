"""Write-side benchmark: raw publish ceiling, pipelined and bulk appends, case loads.

Run with ``doorstroom bench store``. It starts its own nats-server from the wheel in a
temporary directory (or uses DOORSTROOM_NATS_URL) and reports medians of what it measured.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from nats.aio.client import Client as NATS

from events.base import Role
from events.envelope import Actor, EventMeta
from events.gpmi import EvaluationOutcome, GpmiEvaluated
from events.registry import registry
from events.subjects import Subjects
from services.bench.read import direct_get_rate, ordered_push_rate
from services.bench.server import bench_nats
from services.cases import CaseRepository
from services.jsread import last_message
from services.settings import Settings
from services.store import CaseHead, Draft, EventStore
from services.stream import provision_event_stream, snapshot_bucket
from services.vault import KeyVault

OFFICE = "31004"
RECORDED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ACTOR = Actor(user_id="bench", role=Role.TRAJECTORY_COUNSELLOR)


def draft(case_id: UUID, n: int, person: UUID) -> Draft:
    """A realistic small event; one in ten carries sealed notes (encryption cost)."""
    meta = EventMeta(
        event_id=uuid4(),
        office_id=OFFICE,
        case_id=case_id,
        occurred_on=date(2026, 1, 1 + n % 28),
        recorded_at=RECORDED,
        actor=ACTOR,
        correlation_id=uuid4(),
        person_ref=person,
    )
    notes = "Evaluatiegesprek: afspraken opgevolgd, taalcursus loopt." if n % 10 == 0 else None
    event = GpmiEvaluated(
        gpmi_id=case_id, in_person=n % 3 != 0, outcome=EvaluationOutcome.ON_TRACK, notes=notes
    )
    return Draft(meta, event)


class CountFold:
    """A small fold (event count per name) standing in for the domain state."""

    name = "bench-count_v1"

    def initial(self, case_id: UUID) -> dict[str, int]:
        return {}

    def evolve(self, state: dict[str, int], event: Any) -> dict[str, int]:
        return {**state, event.name: state.get(event.name, 0) + 1}

    def dump(self, state: dict[str, int]) -> Any:
        return state

    def restore(self, data: Any) -> dict[str, int]:
        return dict(data)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class Results:
    machine: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)


async def raw_publish_rate(nc: NATS, n: int, payload: bytes) -> float:
    js = nc.jetstream()
    from nats.js.api import StorageType, StreamConfig

    await js.add_stream(StreamConfig(name="RAWBENCH", subjects=["raw.>"], storage=StorageType.FILE))
    start = time.perf_counter()
    futures = [await js.publish_async(f"raw.{i % 1000}", payload) for i in range(n)]
    await asyncio.gather(*futures)
    rate = n / (time.perf_counter() - start)
    await js.delete_stream("RAWBENCH")
    return rate


async def pipelined_appends(store: EventStore, n: int, concurrency: int) -> float:
    """Single-event appends, each with the per-case concurrency check, many in flight."""
    cases = [uuid4() for _ in range(concurrency)]
    person = uuid4()
    per_case = n // concurrency

    async def writer(case: UUID) -> None:
        head = CaseHead(case)
        for i in range(per_case):
            head = (await store.append(head, [draft(case, i, person)])).head

    start = time.perf_counter()
    await asyncio.gather(*(writer(c) for c in cases))
    return per_case * concurrency / (time.perf_counter() - start)


async def bulk_fill(
    store: EventStore,
    total: int,
    events_per_command: int,
    on_progress: Callable[[int], None] | None = None,
    targets: list[UUID] | None = None,
    target_every: int = 0,
) -> tuple[float, dict[UUID, CaseHead]]:
    """Bulk appends in atomic batches; optionally weaves target cases through the stream.

    The rate counts the store's time (encoding, sealing, publishing, acks), not the time the
    benchmark spends building the drafts, which a command handler would spend anyway.
    """
    person = uuid4()
    heads: dict[UUID, CaseHead] = {t: CaseHead(t) for t in targets or []}
    written = 0
    command = 0
    seconds = 0.0
    while written < total:
        items: list[tuple[CaseHead, list[Draft]]] = []
        size = 0
        while size < 5000 - events_per_command and written + size < total:
            command += 1
            if targets and target_every and command % target_every == 0:
                case = targets[(command // target_every) % len(targets)]
                items.append((heads[case], [draft(case, command, person)]))
                size += 1
                continue
            case = uuid4()
            items.append(
                (
                    CaseHead(case),
                    [draft(case, command + i, person) for i in range(events_per_command)],
                )
            )
            size += events_per_command
        # one target case appears at most once per batch: keep their heads current
        seen: set[UUID] = set()
        unique: list[tuple[CaseHead, list[Draft]]] = []
        for head, drafts in items:
            if head.case_id in heads and head.case_id in seen:
                continue
            seen.add(head.case_id)
            unique.append((head, drafts))
        t0 = time.perf_counter()
        results = await store.append_many(unique)
        seconds += time.perf_counter() - t0
        for (head, _), res in zip(unique, results, strict=True):
            if isinstance(res, Exception):
                raise res
            if head.case_id in heads:
                heads[head.case_id] = res.head
            written += len(res.seqs)
        if on_progress:
            on_progress(written)
    return written / seconds, heads


async def case_loads(
    store: EventStore, kv: Any, targets: list[UUID], rounds: int
) -> dict[str, dict[str, float]]:
    """Latency of loading a case's state and of reading its whole history.

    - ``first``: a process that never saw the case and has no snapshot (full walk back);
    - ``snapshot``: a fresh process with the case's snapshot (as after a restart);
    - ``cached``: the state cache of a running command service (one direct get);
    - ``history``: every event of the case decoded, by following the stored links.
    """
    timings: dict[str, list[float]] = {"first": [], "snapshot": [], "cached": [], "history": []}

    async def timed(name: str, action: Any) -> Any:
        t0 = time.perf_counter()
        result = await action
        timings[name].append((time.perf_counter() - t0) * 1000)
        return result

    for case in targets:
        await timed("first", CaseRepository(store, CountFold(), None).load(case))
        # leave a current snapshot behind, as the command service does every 20 events
        await CaseRepository(store, CountFold(), kv, snapshot_every=1).load(case)
    repo = CaseRepository(store, CountFold(), kv)
    for _ in range(rounds):
        for case in targets:
            await timed("snapshot", CaseRepository(store, CountFold(), kv).load(case))
            await repo.load(case)
            loaded = await timed("cached", repo.load(case))
            last = await last_message(store.nc, store.stream, store.subjects.case(case))
            assert last is not None
            events = await timed("history", store.read_tail(case, last, 0))
            assert len(events) == loaded.head.version
    return {
        name: {"p50": round(pct(v, 50), 3), "p99": round(pct(v, 99), 3), "n": len(v)}
        for name, v in timings.items()
    }


def cpu_with_children() -> float:
    """CPU seconds of this process and of its ended child processes (workers, ranges)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def stolen_seconds() -> float:
    """CPU time the hypervisor gave to others while this VM's CPUs had work (the steal
    column of ``/proc/stat``, summed over the CPUs; 0 where unknown). A run with much of it
    did not get the cores the machine shows: read its figures with that in mind."""
    try:
        with Path("/proc/stat").open() as stat:
            fields = stat.readline().split()
    except OSError:
        return 0.0
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


async def run_benchmark(
    *,
    events: int,
    pipelined: int,
    concurrency: int,
    case_events: int,
    targets: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    async with bench_nats() as bench:
        settings = Settings(data_dir=bench.directory, stream="BENCH")
        nc = bench.nc
        vault = KeyVault(f"sqlite:///{bench.directory / 'vault.sqlite3'}", os.urandom(32))
        try:
            js = nc.jetstream()
            await provision_event_stream(js, settings)
            kv = await snapshot_bucket(js, settings)
            store = EventStore(
                nc, stream="BENCH", subjects=Subjects(), registry=registry(), sealer=vault
            )
            probe = uuid4()
            sample = store.prepare(CaseHead(probe), [draft(probe, 1, uuid4())])
            payload_size = len(sample.encoded[0].data)
            out: dict[str, Any] = {"machine": machine(), "payload_bytes": payload_size}

            log(f"raw publish_async of {pipelined} messages of {payload_size} bytes")
            out["raw_publish_async_events_per_s"] = round(
                await raw_publish_rate(nc, pipelined, sample.encoded[0].data)
            )
            log(f"pipelined single-event appends: {pipelined} over {concurrency} cases")
            out["pipelined_append_events_per_s"] = round(
                await pipelined_appends(store, pipelined, concurrency)
            )
            target_ids = [uuid4() for _ in range(targets)]
            every = max(1, (events // 2) // (targets * case_events))
            log(f"bulk fill to {events} events, {targets} cases of {case_events} woven through")
            last_report = [0.0]

            def progress(done: int) -> None:
                if time.monotonic() - last_report[0] > 10:
                    last_report[0] = time.monotonic()
                    log(f"  {done} events")

            rate, heads = await bulk_fill(
                store,
                events - (await store.last_seq()),
                2,
                on_progress=progress,
                targets=target_ids,
                target_every=every,
            )
            out["bulk_append_events_per_s"] = round(rate)
            out["stream_events"] = await store.last_seq()
            versions = [h.version for h in heads.values()]
            out["target_case_events"] = {
                "min": min(versions),
                "median": statistics.median(versions),
                "max": max(versions),
            }
            log("read ceilings over the whole stream")
            total = out["stream_events"]
            subject = store.subjects.all_events
            out["raw_read_events_per_s"] = {
                "batch_direct_get": round(await direct_get_rate(nc, "BENCH", subject, total)),
                "ordered_push_callback": round(
                    await ordered_push_rate(nc, "BENCH", subject, total)
                ),
            }
            log("case loads")
            out["case_load_ms"] = await case_loads(store, kv, target_ids, rounds=5)
            return out
        finally:
            vault.close()
