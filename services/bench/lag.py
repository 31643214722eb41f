"""Append-to-visible latency: events appended at a steady rate, timed until every read model
has committed them.

Run with ``doorstroom bench lag`` or call ``append_to_visible`` (returns p50/p99 in ms). It
starts its own nats-server (or uses DOORSTROOM_NATS_URL) and a fresh stream, and runs the
projection workers in its own process exactly as ``doorstroom projections run`` does
(``run_projections`` with its wake-up on stored messages), into a fresh SQLite file unless
a database URL is given. The appender is an open loop: event ``i`` is due at
``start + i / rate`` whatever happened before, and its latency counts from when it was due
(so a stalled appender or worker cannot hide its backlog) to when the last projection's
transaction holding it committed (the worker's progress report right after the commit).
The events are the read-side benchmark's case histories (20 events a case, one event a
command), spread over enough cases that a case gets about one event a second.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from nats.aio.client import Client as NATS

from events.registry import registry
from events.subjects import Subjects
from projections.catalogue import PROJECTIONS
from projections.worker import run_projections
from services.bench.projections import EVENTS_PER_CASE, case_history
from services.bench.server import bench_nats
from services.bench.store import machine
from services.settings import Settings
from services.store import CaseHead, Draft, EventStore
from services.stream import provision_event_stream

STREAM, PREFIX = "BENCHLAG", "benchlag"
DRAIN_S = 60.0


@dataclass
class Commits:
    """The workers' progress reports: per projection, when which position was committed."""

    times: dict[str, list[float]] = field(default_factory=dict)
    positions: dict[str, list[int]] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, key: str, position: int) -> None:
        self.times.setdefault(key, []).append(time.perf_counter())
        self.positions.setdefault(key, []).append(position)
        self.changed.set()

    def visible_at(self, key: str, seq: int) -> float:
        """When ``key`` first committed a position at or past ``seq``."""
        index = bisect.bisect_left(self.positions[key], seq)
        return self.times[key][index]

    def reached(self, seq: int) -> bool:
        return len(self.positions) == len(PROJECTIONS) and all(
            p[-1] >= seq for p in self.positions.values()
        )

    async def until(self, seq: int, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not self.reached(seq):
                self.changed.clear()
                await self.changed.wait()


@dataclass
class Sent:
    due: float
    seq: int = 0
    acked: float = 0.0


class Appender:
    """Appends one event per command, each case's events in order, as they fall due."""

    def __init__(self, store: EventStore, events: int) -> None:
        self.store = store
        cases = -(-events // EVENTS_PER_CASE)
        histories = [case_history(uuid4(), n) for n in range(cases)]
        # Event i goes to case i % cases: a case gets its next event one round later.
        self.drafts: list[Draft] = [histories[i % cases][i // cases] for i in range(events)]
        self.heads: dict[int, asyncio.Future[CaseHead]] = {}
        self.cases = cases

    async def append(self, i: int, sent: Sent) -> None:
        previous = self.heads.get(i - self.cases)
        head = await previous if previous else CaseHead(self.drafts[i].meta.case_id)
        done: asyncio.Future[CaseHead] = asyncio.get_running_loop().create_future()
        self.heads[i] = done
        self.heads.pop(i - 2 * self.cases, None)
        try:
            result = await self.store.append(head, [self.drafts[i]])
        except BaseException as exc:
            done.set_exception(exc)
            raise
        sent.seq, sent.acked = result.last_seq, time.perf_counter()
        done.set_result(result.head)

    async def run(self, rate: float) -> list[Sent]:
        """Every event at its due time (open loop); their send records once all are stored."""
        start = time.perf_counter() + 0.05
        sent = [Sent(due=start + i / rate) for i in range(len(self.drafts))]
        tasks = []
        for i, record in enumerate(sent):
            delay = record.due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing of the open loop, not synchronisation
            tasks.append(asyncio.create_task(self.append(i, record)))
        await asyncio.gather(*tasks)
        return sent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(ms, 0.50), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "max_ms": round(max(ms), 2),
    }


async def measure(
    nc: NATS, settings: Settings, *, rate: float, seconds: float, warmup_s: float
) -> dict[str, Any]:
    """The workers on ``settings``; a warm-up, then ``seconds`` of appends at ``rate``."""
    store = EventStore(
        nc, stream=settings.stream, subjects=Subjects(PREFIX), registry=registry(), sealer=None
    )
    commits, stop = Commits(), asyncio.Event()
    workers = asyncio.create_task(
        run_projections(nc, settings, registry(), PROJECTIONS, stop, progress=commits)
    )
    try:
        warm = await Appender(store, max(EVENTS_PER_CASE, round(rate * warmup_s))).run(rate)
        await commits.until(max(s.seq for s in warm), DRAIN_S)
        cpu = time.process_time()
        sent = await Appender(store, round(rate * seconds)).run(rate)
        await commits.until(max(s.seq for s in sent), DRAIN_S)
        cpu = time.process_time() - cpu
    finally:
        stop.set()
        await workers
    visible = [max(commits.visible_at(p.key, s.seq) for p in PROJECTIONS) for s in sent]
    elapsed = max(visible) - sent[0].due
    return {
        "events": len(sent),
        "achieved_rate": round(len(sent) / (sent[-1].acked - sent[0].due), 1),
        "append_to_visible": summary(
            [(v - s.due) * 1000 for v, s in zip(visible, sent, strict=True)]
        ),
        "append_ack": summary([(s.acked - s.due) * 1000 for s in sent]),
        "ack_to_visible": summary(
            [(v - s.acked) * 1000 for v, s in zip(visible, sent, strict=True)]
        ),
        "per_projection_p99_ms": {
            p.key: round(
                percentile([(commits.visible_at(p.key, s.seq) - s.due) * 1000 for s in sent], 0.99),
                2,
            )
            for p in PROJECTIONS
        },
        "process_cpu_share": round(cpu / elapsed, 2),
    }


async def append_to_visible(
    *,
    rate: float = 500.0,
    seconds: float = 20.0,
    warmup_s: float = 2.0,
    db_url: str | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Latency from append to visible in every read model at a steady ``rate`` (events/s).

    The result has ``p50_ms`` and ``p99_ms`` (of append to visible, from when each event
    was due), the same for the append's acknowledgement and from it to visibility, each
    projection's p99, the achieved rate and the machine.
    """
    async with bench_nats("doorstroom-bench-lag-") as bench:
        stream = f"{STREAM}{uuid4().hex[:8].upper()}"
        settings = Settings(
            nats_url=bench.url,
            data_dir=bench.directory,
            db=db_url or f"sqlite:///{bench.directory / 'readmodels.sqlite3'}",
            stream=stream,
            subject_prefix=PREFIX,
        )
        await provision_event_stream(bench.nc.jetstream(), settings)
        log(f"{rate:g} events/s for {seconds:g} s after a {warmup_s:g} s warm-up")
        out = await measure(bench.nc, settings, rate=rate, seconds=seconds, warmup_s=warmup_s)
        if not bench.own_server:
            await bench.nc.jetstream().delete_stream(stream)
    figures = out["append_to_visible"]
    return {
        "machine": machine(),
        "rate": rate,
        "seconds": seconds,
        "database": "postgresql" if db_url and db_url.startswith("postgres") else "sqlite",
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        **out,
    }
