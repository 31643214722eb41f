"""Report benchmark: one report from scratch by replay over a stream of N events.

Run with ``doorstroom bench report NAME --events N`` or call ``run_benchmark``. It starts its
own nats-server (or uses DOORSTROOM_NATS_URL), fills a stream with the realistic case
histories of the projection benchmark, then times the replay into an in-memory store and
the report's computation separately (wall and CPU seconds). Target: 1,000,000 events in at
most 30 s on 2 cores.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from events.registry import registry
from events.subjects import Subjects
from projections.reports import Params
from projections.reports.catalogue import build
from projections.reports.facts import report_facts
from projections.reports.replay import memory_database, replay_into
from projections.rules import default_rules
from services.bench.projections import fill
from services.bench.server import bench_nats
from services.bench.store import cpu_with_children, machine, stolen_seconds
from services.settings import Settings
from services.store import EventStore
from services.stream import provision_event_stream


async def time_report(store: EventStore, name: str, params: Params) -> dict[str, Any]:
    """Replay and compute ``name`` once; wall and CPU seconds of each step (CPU counts the
    replay's child processes too)."""
    db = memory_database()
    stolen = stolen_seconds()
    try:
        wall, cpu = time.perf_counter(), cpu_with_children()
        read = await replay_into(
            db,
            [report_facts],
            store.nc,
            stream=store.stream,
            subjects=store.subjects,
            registry=store.registry,
            known_on=params.known_on,
        )
        replay_wall, replay_cpu = time.perf_counter() - wall, cpu_with_children() - cpu
        wall, cpu = time.perf_counter(), cpu_with_children()
        table = await asyncio.to_thread(build, db, name, params)
        build_wall, build_cpu = time.perf_counter() - wall, cpu_with_children() - cpu
    finally:
        db.close()
    total = replay_wall + build_wall
    return {
        "report": name,
        "events_read": read,
        "rows": len(table.rows),
        "replay": {"seconds": round(replay_wall, 2), "cpu_seconds": round(replay_cpu, 2)},
        "compute": {"seconds": round(build_wall, 2), "cpu_seconds": round(build_cpu, 2)},
        "total_seconds": round(total, 2),
        "events_per_s": round(read / total) if total else None,
        "replay_cpu_us_per_event": round(replay_cpu * 1e6 / read, 1) if read else None,
        "stolen_cpu_seconds": round(stolen_seconds() - stolen, 2),
    }


async def run_benchmark(
    *, names: Sequence[str], events: int, on: date, log: Callable[[str], None]
) -> dict[str, Any]:
    """Fill one stream, then time each report of ``names`` from scratch by replay on it.

    A report that refuses the date (lap-progress outside a LAP call) is listed with its
    refusal instead of figures.
    """
    async with bench_nats() as bench:
        settings = Settings(data_dir=bench.directory, stream="BENCHREPORT")
        nc = bench.nc
        await provision_event_stream(nc.jetstream(), settings)
        store = EventStore(
            nc, stream=settings.stream, subjects=Subjects(), registry=registry(), sealer=None
        )
        log(f"filling the stream with {events} events")
        await fill(store, events)
        params = Params(on=on, known_on=None, offices=None, year=on.year, rules=default_rules())
        out: dict[str, Any] = {"machine": machine(), "stream_events": await store.last_seq()}
        reports: list[dict[str, Any]] = []
        for name in names:
            log(f"{name}: replay into memory and compute")
            try:
                figures = await time_report(store, name, params)
            except LookupError as exc:
                figures = {"report": name, "refused": str(exc)}
            log(f"{name}: {figures}")
            reports.append(figures)
        out["reports"] = reports
        timed = [r["total_seconds"] for r in reports if "total_seconds" in r]
        out["slowest_total_seconds"] = max(timed) if timed else None
        return out
