"""HTTP benchmark: a steady stream of commands over many cases through the real API.

Run with ``doorstroom bench http``. It starts its own nats-server and SQLite files in a
temporary directory and serves the API with uvicorn on a free loopback port in this
process; a child process (its own interpreter, so the client does not take the server's
CPU) sends commands with httpx at a fixed rate. The load is an open loop: each request is
due at its own time whether or not earlier ones have answered, so a slow server shows as
latency instead of a lower rate. Case i gets ReceiveAidRequest, RegisterPerson (sealed
personal data), GrantLeefloon, StartTrajectory, then VDAB registrations, in turn with the
other cases; a case's next command waits for the answer to its previous one. Latency is
counted from the moment a request was due (so waiting counts) and, apart, from the moment
it was sent. Then the timelines of the cases are read once each, one after another, by a
social worker (personal data decrypted).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx

from events.base import Role
from services.bench.store import machine, pct
from services.embedded import NatsServer
from services.http.app import open_api
from services.http.deps import Api
from services.http.serve import serving, settle_heap
from services.runtime import open_runtime
from services.settings import Settings

OFFICE = "31004"
DAY = "2025-03-03"
CONNECTIONS = 8  # more: httpx's pool costs grow with the square of its queue


def command_for(case: UUID, person: UUID, step: int) -> tuple[str, dict[str, Any]]:
    """The ``step``-th command of a case (0-based)."""
    base: dict[str, Any] = {"command_id": str(uuid4()), "case_id": str(case), "occurred_on": DAY}
    if step == 0:
        return "ReceiveAidRequest", {**base, "channel": "counter", "requested": "leefloon"}
    if step == 1:
        return "RegisterPerson", {
            **base,
            "person_ref": str(person),
            "national_number": "85073003328",
            "family_name": "Peeters",
            "given_names": "An Sofie",
            "birth_date": "1985-07-30",
            "address": {
                "street": "Kerkstraat",
                "house_number": "12",
                "postal_code": "9000",
                "municipality": "Gent",
            },
            "household": [],
        }
    if step == 2:
        return "GrantLeefloon", {
            **base,
            "decision_id": str(uuid4()),
            "bcsd_session_on": DAY,
            "right_type": "leefloon",
            "category": "alleenstaand",
            "monthly_amount_cents": 131420,
            "rate_valid_from": DAY,
            "effective_from": DAY,
            "gpmi_required": True,
        }
    if step == 3:
        return "StartTrajectory", {**base, "trajectory_id": str(uuid4()), "kind": "werk"}
    return "RecordVdabRegistration", {**base, "registered_on": DAY}


def _cpu_seconds(server: NatsServer | None) -> tuple[float, float]:
    """CPU time so far of this process and of the nats-server (Linux; 0 where unknown)."""
    return time.process_time(), 0.0 if server is None else server.cpu_seconds()


def _figures(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "p50_ms": round(pct(ms, 50), 2),
        "p99_ms": round(pct(ms, 99), 2),
        "max_ms": round(max(ms), 2),
    }


async def _drive(
    client: httpx.AsyncClient, rate: float, seconds: float, cases: list[tuple[UUID, UUID]]
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    total = int(rate * seconds)
    due_lag: list[float] = []
    service: list[float] = []
    statuses: Counter[int | str] = Counter()
    # A case's next command waits for the answer to its previous one, as a client would.
    turns = [asyncio.Lock() for _ in cases]
    # Requests queue here rather than in httpx's pool, whose cost grows with the square of
    # its queue and would make the client, not the server, the bottleneck.
    connections = asyncio.Semaphore(CONNECTIONS)

    async def one(i: int, due: float) -> None:
        case, person = cases[i % len(cases)]
        name, body = command_for(case, person, i // len(cases))
        async with turns[i % len(cases)], connections:
            sent = loop.time()
            try:
                status: int | str = (await client.post(f"/commands/{name}", json=body)).status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            done = loop.time()
        statuses[status] += 1
        due_lag.append(done - due)
        service.append(done - sent)

    start = loop.time()
    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)  # pacing the load, not waiting for a result
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    return {
        "target_rate_per_s": rate,
        "achieved_rate_per_s": round(total / elapsed, 1),
        "commands": total,
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "latency_from_due": _figures(due_lag),
        "latency_from_send": _figures(service),
    }


def _client(url: str, token: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"}
    timeout = httpx.Timeout(60, pool=None)  # an overloaded server shows as latency
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    return httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout, limits=limits)


async def _send(url: str, token: str, rate: float, seconds: float, cases: list[str]) -> Any:
    began = time.process_time()
    async with _client(url, token) as client:
        figures = await _drive(client, rate, seconds, [(UUID(c), uuid4()) for c in cases])
    used = (time.process_time() - began) * 1000 / max(figures["commands"], 1)
    return {**figures, "client_cpu_ms_per_command": round(used, 3)}


async def _read(url: str, token: str, cases: list[str]) -> dict[str, float | int]:
    reads: list[float] = []
    async with _client(url, token) as client:
        for case in cases:
            began = time.perf_counter()
            response = await client.get(f"/cases/{case}/timeline")
            response.raise_for_status()
            reads.append(time.perf_counter() - began)
    return _figures(reads)


def send_commands(url: str, token: str, rate: float, seconds: float, cases: list[str]) -> Any:
    """Load generator, run in the child process: the commands."""
    return asyncio.run(_send(url, token, rate, seconds, cases))


def read_timelines(url: str, token: str, cases: list[str]) -> dict[str, float | int]:
    """Load generator, run in the child process: one timeline read per case, in turn."""
    return asyncio.run(_read(url, token, cases))


async def run_benchmark(
    *,
    rate: float = 200.0,
    seconds: float = 20.0,
    cases: int = 1000,
    log: Callable[[str], None] = print,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """The figures; with ``settings``, on that server and stream (the bench suite's),
    otherwise on an embedded server of its own in a temporary directory."""
    ids = [str(uuid4()) for _ in range(cases)]
    opened = ids[: min(cases, int(rate * seconds))]
    with tempfile.TemporaryDirectory(prefix="doorstroom-bench-http-") as tmp:
        own = settings is None
        settings = settings or Settings(
            data_dir=Path(tmp), nats_url=None, db=None, vault_db=None, master_key=None
        )
        async with open_runtime(settings, own_server=own) as rt, open_api(rt) as app:
            api: Api = app.state.api
            now = datetime.now(UTC)
            token = api.tokens.issue(
                user_id="bench", office_id=OFFICE, role=Role.SOCIAL_WORKER, now=now
            ).token
            spawn = multiprocessing.get_context("spawn")
            loop = asyncio.get_running_loop()
            async with serving(app, "127.0.0.1", 0, log_level="warning", access_log=False) as url:
                settle_heap()
                log(f"API at {url}; {rate:g} commands/s for {seconds:g} s over {cases} cases")
                with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
                    await loop.run_in_executor(pool, read_timelines, url, token, [])  # warm up
                    cpu = _cpu_seconds(rt.server)
                    commands = await loop.run_in_executor(
                        pool, send_commands, url, token, rate, seconds, ids
                    )
                    cpu_commands = _cpu_used(cpu, _cpu_seconds(rt.server), commands["commands"])
                    log(f"commands: {commands}")
                    cpu = _cpu_seconds(rt.server)
                    reads = await loop.run_in_executor(pool, read_timelines, url, token, opened)
                    cpu_reads = _cpu_used(cpu, _cpu_seconds(rt.server), len(opened))
            events = await rt.store.last_seq()
    return {
        "machine": machine(),
        "commands": {**commands, "cpu_ms_per_command": cpu_commands},
        "timeline_reads": {**reads, "cpu_ms_per_read": cpu_reads},
        "events_on_stream": events,
        "note": "server (uvicorn, the API, the vault) in this process; httpx in a child process",
    }


def _cpu_used(before: tuple[float, float], after: tuple[float, float], n: int) -> dict[str, float]:
    """CPU milliseconds per request of this process and of the nats-server."""
    return {
        "api_process": round((after[0] - before[0]) * 1000 / max(n, 1), 3),
        "nats_server": round((after[1] - before[1]) * 1000 / max(n, 1), 3),
    }
