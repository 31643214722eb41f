"""One range of stream sequences replayed into ``report_facts`` rows (without voiding), in
this process or in a child process of its own (``ranges.main``).

A child gets its :class:`Job` pickled on stdin, connects to NATS itself, writes the rows into
a fresh SQLite file and answers ``(events read, failure)`` pickled on stdout. It is started
as a plain interpreter, not by ``multiprocessing``, so it never imports the caller's main
module (a script without the ``__main__`` guard, a web server).
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import sqlite3
import sys
import threading
from contextlib import aclosing, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NATS

from events.registry import EventRegistry
from events.registry import registry as default_registry
from events.subjects import Subjects
from projections.reports.extract import fact_row_of
from projections.reports.facts import BULK_TABLE, INSERT_FACT, FactRow, report_facts
from services.db import Database
from services.jsread import RawReadClient, read_batches

Failure = tuple[int, str]
"""Where a range stopped: the stream sequence and the reason."""

Outcome = tuple[int, Failure | None]
"""Events read, and where the range stopped on a record it could not read."""

log = logging.getLogger("doorstroom.reports")

CONNECT_TIMEOUT_S = 20.0
"""A child that cannot connect within this gives up (its range is then read by the parent)."""

_ROOT = str(Path(__file__).resolve().parents[2])  # where a child imports this package from


def insert(db: Database, rows: list[FactRow]) -> None:
    """Insert ``rows`` into the keyless ``rf_events`` (``BULK_TABLE``) in one transaction."""
    if rows:
        db.execute("BEGIN")
        db.executemany(INSERT_FACT, rows)
        db.execute("COMMIT")


def reason(name: str, exc: Exception) -> str:
    return f"{name}: {type(exc).__name__}: {exc}"


async def replay_range(
    nc: NATS,
    db: Database,
    stream: str,
    subjects: Subjects,
    registry: EventRegistry,
    start: int,
    end: int,
    cutoff: datetime | None,
    batch_size: int,
) -> tuple[int, Failure | None]:
    """Fact rows of stream sequences ``start`` to ``end`` (-1: to the end) into the keyless
    table in ``db``, without voiding; the events read, and where it stopped on a record it
    could not read (the rows before it are in)."""
    names = report_facts.handles
    read = 0
    reader = read_batches(nc, stream, subjects.all_events, from_seq=start, batch=batch_size)
    async with aclosing(reader) as batches:
        async for raws in batches:
            rows: list[FactRow] = []
            failed: Failure | None = None
            past_end = end >= 0 and raws[-1].seq > end
            for raw in raws:
                if past_end and raw.seq > end:
                    break
                read += 1
                name = raw.subject.rsplit(".", 1)[-1]
                if name not in names:
                    continue  # as the engine skips events a projection does not declare
                try:
                    row = fact_row_of(raw.data, raw.seq, raw.subject, name, registry, cutoff)
                except Exception as exc:
                    failed = raw.seq, reason(name, exc)
                    break
                if row is not None:
                    rows.append(row)
            insert(db, rows)
            if failed is not None or past_end:
                return read, failed
    return read, None


@dataclass(frozen=True)
class Job:
    """One range for a child process: how to connect, what to read, where to write."""

    connect: dict[str, Any]
    stream: str
    subjects: Subjects
    start: int
    end: int
    cutoff: datetime | None
    path: str
    batch_size: int = 5000


async def run_child(job: Job) -> Outcome | None:
    """Replay ``job`` in a child process and wait for its outcome; None when the child
    failed (it could not connect, say), having said why on stderr."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from projections.reports.ranges import main; main()",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    payload = pickle.dumps(job)
    try:
        # The job goes first, length-prefixed; stdin then stays open until the child has
        # answered, so that its end tells the child this process is gone (see ``main``).
        child.stdin.write(len(payload).to_bytes(8, "big") + payload)
        await child.stdin.drain()
        out = await child.stdout.read()
        await child.wait()
    except BaseException:
        if child.returncode is None:
            child.kill()
            await child.wait()
        raise
    finally:
        child.stdin.close()
    if child.returncode != 0:
        log.warning(
            "report replay of stream sequences %d to %d: child process exited with %d",
            job.start,
            job.end,
            child.returncode,
        )
        return None
    outcome: Outcome = pickle.loads(out)  # noqa: S301 - our own child's answer
    return outcome


async def _run_job(job: Job) -> Outcome:
    nc = RawReadClient()
    await asyncio.wait_for(nc.connect(**job.connect), CONNECT_TIMEOUT_S)
    conn = sqlite3.connect(job.path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        db = Database(f"sqlite:///{job.path}", conn, postgres=False)
        db.execute(BULK_TABLE)
        return await replay_range(
            nc,
            db,
            job.stream,
            job.subjects,
            default_registry(),
            job.start,
            job.end,
            job.cutoff,
            job.batch_size,
        )
    finally:
        conn.close()
        await nc.close()


def connect_options(nc: NATS) -> dict[str, Any] | None:
    """How another process connects as ``nc`` did (server, user, token, credentials file),
    or None when that cannot be passed on (TLS context, callbacks)."""
    url = nc.connected_url
    if url is None or nc.options.get("tls") is not None:
        return None
    options: dict[str, Any] = {
        "servers": [url.geturl()],
        "name": "doorstroom-report-replay",
        "max_reconnect_attempts": 2,  # not for long: the parent reads the range itself then
    }
    for key in ("user", "password", "token"):
        if nc.options.get(key) is not None:
            options[key] = nc.options[key]
    # nats-py keeps these only in private fields; a credentials file or seed is a path.
    credentials = getattr(nc, "_user_credentials", None)
    seed = getattr(nc, "_nkeys_seed", None)
    if credentials is not None:
        if not isinstance(credentials, str | tuple):
            return None
        options["user_credentials"] = credentials
    elif seed is not None:
        options["nkeys_seed"] = seed
    elif getattr(nc, "_signature_cb", None) or getattr(nc, "_user_jwt_cb", None):
        return None
    if getattr(nc, "_nkeys_seed_str", None) is not None:
        return None
    return options


def main() -> None:
    source = sys.stdin.buffer
    size = int.from_bytes(source.read(8), "big")
    job: Job = pickle.loads(source.read(size))  # noqa: S301 - from the parent process
    # The raw descriptor, not the buffered reader: a thread blocked in the reader would hold
    # its lock at interpreter shutdown.
    fd = source.fileno()
    threading.Thread(target=_end_with_parent, args=(fd, job.path), daemon=True).start()
    outcome = asyncio.run(_run_job(job))
    sys.stdout.buffer.write(pickle.dumps(outcome))


def _end_with_parent(fd: int, path: str) -> None:
    """The parent keeps stdin open until it has the answer: its end before that means the
    parent is gone (killed), and nobody will read this range; stop and remove its file."""
    while os.read(fd, 4096):
        pass
    with suppress(OSError):
        Path(path).unlink()
    os._exit(1)
