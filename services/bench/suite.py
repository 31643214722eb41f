"""``doorstroom bench``: the fixed suite, on one server and one simulated stream.

It starts its own nats-server (from the wheel, free port, temporary directory), simulates
about ``--events`` events (``doorstroom simulate``), imports them (``doorstroom import``'s
code), then runs each part in turn. A part is one entry of ``PARTS``: a name, the keys it
fills and a coroutine; a new part (a faster engine, another peer) plugs in as one more
entry. Every figure is measured in this run; none is typed in. Ratios compare ours with the
ceiling (raw nats-py) and with the peer (the eventsourcing library on SQLite).
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import nats
from nats.aio.client import Client as NATS

from events.registry import registry
from events.subjects import Subjects
from services.bench import es_projection, lag
from services.bench.peer import run_peer_app
from services.bench.projections import fresh_postgres
from services.bench.read import direct_get_rate, ordered_push_rate
from services.bench.rebuild import run_child
from services.bench.store import bulk_fill, machine, pct, raw_publish_rate
from services.cases import CaseRepository
from services.domain import CaseFold
from services.embedded import NatsServer, nats_server_binary
from services.jsread import last_message
from services.runtime import open_runtime
from services.settings import Settings
from services.simulate import SimulationConfig, import_simulation, simulate
from services.store import EventStore
from services.stream import provision_event_stream, snapshot_bucket

OFFICE: Final = "31004"
PUBLISH_MAX: Final = 50_000
PEER_MAX_COMMANDS: Final = 100_000
LOAD_CASES: Final = 200
LAG_RATE: Final = 500.0
LAG_SECONDS: Final = 10.0
KEYS: Final = (
    "machine",
    "events",
    "raw_publish_events_per_s",
    "raw_read_events_per_s",
    "peer_app_events_per_s",
    "peer_projection_events_per_s",
    "append_events_per_s",
    "command_latency_ms",
    "case_load_ms",
    "rebuild_sqlite_events_per_s",
    "rebuild_postgres_events_per_s",
    "lag_ms",
    "worker_peak_rss_mb",
)


@dataclass
class SuiteOptions:
    events: int = 100_000
    offices: int = 300
    seed: int = 1
    postgres_dsn: str | None = None
    latency_rate: float = 100.0
    latency_seconds: float = 10.0
    lag_rate: float = LAG_RATE
    lag_seconds: float = LAG_SECONDS


@dataclass
class Suite:
    """What every part may use: the server, the stream, the simulated files, the results."""

    options: SuiteOptions
    directory: Path
    settings: Settings
    nc: NATS
    store: EventStore
    manifest: dict[str, Any]
    log: Callable[[str], None]
    out: dict[str, Any] = field(default_factory=dict)

    @property
    def files(self) -> list[tuple[Path, str]]:
        return [(self.directory / "sim" / e["file"], e["office"]) for e in self.manifest["files"]]


@dataclass(frozen=True)
class Part:
    name: str
    keys: tuple[str, ...]
    run: Callable[[Suite], Awaitable[None]]


async def _import(suite: Suite) -> None:
    """Ours on the simulated commands: the bulk import, decide and append (the same
    commands the peer gets)."""
    summary = await import_simulation(suite.settings, suite.directory / "sim")
    if summary.rejected:
        raise RuntimeError(f"the simulated import refused {summary.rejected} lines")
    suite.out["events"] = events = await suite.store.last_seq()
    suite.out["import"] = {
        "commands": summary.read,
        "seconds": round(summary.seconds, 2),
        "commands_per_s": round(summary.rate),
        "events_per_s": round(events / summary.seconds),
    }


async def _raw_publish(suite: Suite) -> None:
    """Ceiling: raw ``publish_async`` of a stored record's bytes, acks awaited at the end."""
    payload = await _sample_payload(suite)
    n = min(PUBLISH_MAX, suite.out["events"])
    suite.out["raw_publish_events_per_s"] = round(await raw_publish_rate(suite.nc, n, payload))
    suite.out["raw_publish"] = {"messages": n, "payload_bytes": len(payload)}


async def _raw_read(suite: Suite) -> None:
    """Ceiling: the fastest of two raw reads of the whole stream."""
    total, subject = suite.out["events"], suite.store.subjects.all_events
    stream = suite.settings.stream
    ways = {
        "batch_direct_get": await direct_get_rate(suite.nc, stream, subject, total),
        "ordered_push_callback": await ordered_push_rate(suite.nc, stream, subject, total),
    }
    suite.out["raw_read"] = {k: round(v) for k, v in ways.items()}
    suite.out["raw_read_events_per_s"] = round(max(ways.values()))


async def _append(suite: Suite) -> None:
    """Ours: bulk appends (atomic batches, per-case concurrency check), store time only,
    into a second stream on the same server."""
    settings = suite.settings.model_copy(update={"stream": "BENCHAPPEND", "subject_prefix": "ba"})
    await provision_event_stream(suite.nc.jetstream(), settings)
    store = EventStore(
        suite.nc,
        stream=settings.stream,
        subjects=Subjects(settings.subject_prefix),
        registry=registry(),
        sealer=suite.store.sealer,
    )
    n = min(PUBLISH_MAX, suite.out["events"])
    rate, _ = await bulk_fill(store, n, 2)
    suite.out["append_events_per_s"] = round(rate)


async def _peer_app(suite: Suite) -> None:
    """Peer: the eventsourcing Application on SQLite deciding the same commands."""
    limit = min(PEER_MAX_COMMANDS, suite.manifest["commands"])
    figures = await asyncio.to_thread(
        run_peer_app, suite.files, suite.directory / "peer.sqlite3", limit
    )
    suite.out["peer_app"] = figures
    suite.out["peer_app_events_per_s"] = figures["events_per_s"]


async def _peer_projection(suite: Suite) -> None:
    """Peer: the eventsourcing library's own ``Projection`` over the same stored events
    (read and decoded as ours are) into an SQLite view, a tracking record per batch."""
    figures = await es_projection.run(
        suite.nc,
        suite.settings.stream,
        suite.store.subjects.all_events,
        registry(),
        suite.directory / "peer-view.sqlite3",
        1000,
    )
    suite.out["peer_projection"] = figures
    suite.out["peer_projection_events_per_s"] = figures["events_per_s"]


async def _case_load(suite: Suite) -> None:
    """Ours: load simulated cases' state (our fold) in a fresh process with its snapshot."""
    kv = await snapshot_bucket(suite.nc.jetstream(), suite.settings)
    cases = _some_cases(suite, LOAD_CASES)
    timings: dict[str, list[float]] = {"snapshot": [], "first": [], "cached": []}
    cached = CaseRepository(suite.store, CaseFold(), kv)
    for case in cases:
        for name, repo in (
            ("first", CaseRepository(suite.store, CaseFold(), None)),
            ("snapshot", CaseRepository(suite.store, CaseFold(), kv)),
            ("cached", cached),
        ):
            if name == "cached":
                await repo.load(case)
            started = time.perf_counter()
            await repo.load(case)
            timings[name].append((time.perf_counter() - started) * 1000)
    figures = {
        k: {"p50": round(pct(v, 50), 3), "p99": round(pct(v, 99), 3)} for k, v in timings.items()
    }
    suite.out["case_load_ms"] = {**figures["snapshot"], "n": len(cases)}
    suite.out["case_load_detail_ms"] = figures


async def _command_latency(suite: Suite) -> None:
    """Ours: HTTP commands at a steady rate on the same server and stream (uvicorn, httpx)."""
    from services.bench.http import run_benchmark

    figures = await run_benchmark(
        rate=suite.options.latency_rate,
        seconds=suite.options.latency_seconds,
        cases=1000,
        log=suite.log,
        settings=suite.settings,
    )
    due = figures["commands"]["latency_from_due"]
    suite.out["command_latency_ms"] = {
        "p50": due["p50_ms"],
        "p99": due["p99_ms"],
        "rate_per_s": figures["commands"]["achieved_rate_per_s"],
    }
    suite.out["command_latency"] = figures["commands"]


async def _rebuild_sqlite(suite: Suite) -> None:
    """Ours: every read model rebuilt together into SQLite, then each alone, in a child
    process (the worker), whose peak RSS during the together run is the worker's."""
    url = f"sqlite:///{suite.directory / 'rebuild.sqlite3'}"
    figures = await run_child(suite.settings.nats_url or "", suite.settings.stream, url, alone=True)
    suite.out["rebuild_sqlite"] = figures
    suite.out["rebuild_sqlite_events_per_s"] = figures["together_events_per_s"]
    suite.out["worker_peak_rss_mb"] = figures["peak_rss_mb"]


async def _rebuild_postgres(suite: Suite) -> None:
    """Ours: every read model together into PostgreSQL (a schema of its own), if a DSN."""
    dsn = suite.options.postgres_dsn
    if not dsn:
        suite.out["rebuild_postgres_events_per_s"] = None
        return
    with fresh_postgres(dsn) as url:
        figures = await run_child(
            suite.settings.nats_url or "", suite.settings.stream, url, alone=False
        )
    suite.out["rebuild_postgres"] = figures
    suite.out["rebuild_postgres_events_per_s"] = figures["together_events_per_s"]


async def _lag(suite: Suite) -> None:
    """Ours: append to visible in every read model at a steady rate, with the projection
    workers following as in production (``doorstroom bench lag``'s measurement), on a
    stream of its own on the same server."""
    settings = suite.settings.model_copy(
        update={
            "db": f"sqlite:///{suite.directory / 'lag.sqlite3'}",
            "stream": "BENCHLAG",
            "subject_prefix": lag.PREFIX,
        }
    )
    await provision_event_stream(suite.nc.jetstream(), settings)
    figures = await lag.measure(
        suite.nc,
        settings,
        rate=suite.options.lag_rate,
        seconds=suite.options.lag_seconds,
        warmup_s=2.0,
    )
    visible = figures["append_to_visible"]
    suite.out["lag_ms"] = {
        "p50": visible["p50_ms"],
        "p99": visible["p99_ms"],
        "n": figures["events"],
        "rate_per_s": suite.options.lag_rate,
    }
    suite.out["lag"] = figures


PARTS: Final = (
    Part("import (ours, the simulated commands)", ("events",), _import),
    Part("raw publish ceiling", ("raw_publish_events_per_s",), _raw_publish),
    Part("raw read ceiling", ("raw_read_events_per_s",), _raw_read),
    Part("bulk append (ours)", ("append_events_per_s",), _append),
    Part("peer application", ("peer_app_events_per_s",), _peer_app),
    Part("peer projection", ("peer_projection_events_per_s",), _peer_projection),
    Part("case loads (ours)", ("case_load_ms",), _case_load),
    Part("command latency (ours)", ("command_latency_ms",), _command_latency),
    Part(
        "rebuild into SQLite (ours)",
        ("rebuild_sqlite_events_per_s", "worker_peak_rss_mb"),
        _rebuild_sqlite,
    ),
    Part("rebuild into PostgreSQL (ours)", ("rebuild_postgres_events_per_s",), _rebuild_postgres),
    Part("append-to-visible lag (ours)", ("lag_ms",), _lag),
)


async def run_suite(
    options: SuiteOptions, *, log: Callable[[str], None], parts: tuple[Part, ...] = PARTS
) -> dict[str, Any]:
    """Every part in turn on one server; the results with their ratios."""
    began = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="doorstroom-bench-") as tmp:
        directory = Path(tmp)
        config = SimulationConfig(offices=options.offices, events=options.events, seed=options.seed)
        log(f"simulating about {options.events} events")
        started = time.perf_counter()
        manifest = await asyncio.to_thread(
            simulate, config, directory / "sim", today=datetime.now(UTC).date()
        )
        simulated_s = time.perf_counter() - started
        with NatsServer(store_dir=directory / "nats") as server:
            settings = Settings(
                nats_url=server.url,
                data_dir=directory / "var",
                offices_file=directory / "sim" / manifest["offices_file"],
                db=None,
                vault_db=None,
                master_key=None,
            )
            nc = await nats.connect(server.url, max_reconnect_attempts=-1)
            try:
                async with open_runtime(settings) as rt:
                    suite = Suite(options, directory, settings, nc, rt.store, manifest, log)
                    suite.out.update(
                        {
                            "machine": {**machine(), "nats_server": _nats_version()},
                            "started_at": began.isoformat(timespec="seconds"),
                            "simulation": {
                                "offices": manifest["offices"],
                                "clients": manifest["clients"],
                                "commands": manifest["commands"],
                                "seconds": round(simulated_s, 2),
                            },
                        }
                    )
                    for part in parts:
                        log(f"{part.name}")
                        t0 = time.perf_counter()
                        await part.run(suite)
                        suite.out.setdefault("seconds_per_part", {})[part.name] = round(
                            time.perf_counter() - t0, 1
                        )
            finally:
                await nc.close()
    out = suite.out
    out["ratios"] = ratios(out)
    out["command"] = _command_line(options)
    return out


def ratios(out: dict[str, Any]) -> dict[str, float | None]:
    """Ours to the ceiling and to the peer (higher is better for rates)."""

    def ratio(ours: str, other: str) -> float | None:
        a, b = out.get(ours), out.get(other)
        return round(a / b, 3) if isinstance(a, int | float) and b else None

    return {
        "append_to_raw_publish": ratio("append_events_per_s", "raw_publish_events_per_s"),
        "import_to_peer_app": (
            round(out["import"]["events_per_s"] / out["peer_app_events_per_s"], 3)
            if out.get("import") and out.get("peer_app_events_per_s")
            else None
        ),
        "append_to_peer_app": ratio("append_events_per_s", "peer_app_events_per_s"),
        "rebuild_sqlite_to_raw_read": ratio("rebuild_sqlite_events_per_s", "raw_read_events_per_s"),
        "rebuild_sqlite_to_peer_projection": ratio(
            "rebuild_sqlite_events_per_s", "peer_projection_events_per_s"
        ),
        "rebuild_postgres_to_raw_read": ratio(
            "rebuild_postgres_events_per_s", "raw_read_events_per_s"
        ),
    }


def _command_line(options: SuiteOptions) -> str:
    parts = [f"doorstroom bench --events {options.events}"]
    if options.postgres_dsn:
        parts.append("--postgres-dsn DSN")
    return " ".join(parts)


def _nats_version() -> str:
    try:
        info = subprocess.run(  # noqa: S603 - our own binary, fixed arguments
            [str(nats_server_binary()), "--version"],
            check=False,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return info.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _some_cases(suite: Suite, n: int) -> list[UUID]:
    """Up to ``n`` simulated person cases, chosen by the seed."""
    cases: list[UUID] = []
    for path, _ in suite.files:
        with path.open("rb") as source:
            cases.extend(
                UUID(json.loads(raw)["body"]["case_id"])
                for raw in source
                if b'"ReceiveAidRequest"' in raw[:40]
            )
    random.Random(suite.options.seed).shuffle(cases)  # noqa: S311 - a sample, not a secret
    return cases[:n]


async def _sample_payload(suite: Suite) -> bytes:
    case = _some_cases(suite, 1)[0]
    last = await last_message(suite.nc, suite.settings.stream, suite.store.subjects.case(case))
    assert last is not None
    return bytes(last.data)
