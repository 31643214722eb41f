"""Replay the stream into a throw-away store, optionally only what was known on a date.

This is the one place reports read the stream: it runs the engine's ``Runner`` over copies of
the report projections whose handlers skip events recorded after the cut-off. The live
read-model database is never touched.

*As known on K*: only events recorded (``recorded_at``) before the end of day K in the
document time zone (Europe/Brussels) are replayed. A retraction or correction recorded after
K is therefore not seen, and the view as known on K shows the original figure.

``report_facts`` (the table every report reads) has a replay of its own, :func:`replay_facts`:
its rows are built from the raw records (``extract``) and, on a long stream, by several
processes at once, each over its own range of stream sequences; see there.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Final

from nats.aio.client import Client as NATS

from events.codec import RecordedEvent
from events.envelope import BRUSSELS
from events.registry import EventRegistry
from events.registry import registry as default_registry
from events.subjects import Subjects
from projections.engine import Runner
from projections.projection import Handler, Projection, ProjectionError, Tx
from projections.reports.facts import BULK_KEYS, BULK_TABLE, apply_voids, report_facts
from projections.reports.ranges import (
    Failure,
    Job,
    Outcome,
    connect_options,
    reason,
    replay_range,
    run_child,
)
from services.db import Database

PARALLEL_MIN_EVENTS: Final = 50_000
"""A stream is split into ranges of at least this many events (shorter: one process)."""
MAX_PROCESSES: Final = 4


SCRATCH_PREFIX: Final = "doorstroom-replay-"
"""Temporary folders of the ranges' files: ``doorstroom-replay-<pid>-<random>``."""


def _sweep_stale_folders() -> None:
    """Remove the range folders of replays whose process is gone (killed before cleaning up)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = folder.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def known_cutoff(known_on: date) -> datetime:
    """The first instant after day ``known_on`` in Brussels (events before it were known)."""
    return datetime.combine(known_on + timedelta(days=1), time(0), tzinfo=BRUSSELS)


def memory_database() -> Database:
    """An in-memory SQLite database that disappears when closed."""
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    return Database("sqlite:///:memory:", conn, postgres=False)


def _known_only(handler: Handler, cutoff: datetime) -> Handler:
    def apply(tx: Tx, rec: RecordedEvent) -> None:
        if rec.meta.recorded_at < cutoff:
            handler(tx, rec)

    return apply


def as_known_on(projection: Projection, known_on: date | None) -> Projection:
    """``projection`` itself, or a copy that ignores events recorded after day ``known_on``.

    For plain projections (not journalled ``CaseProjection``s, whose ``on`` wraps handlers).
    """
    if known_on is None:
        return projection
    cutoff = known_cutoff(known_on)
    copy = Projection(name=projection.name, version=projection.version, tables=projection.tables)
    for name in sorted(projection.handles):
        handler = projection.handler(name)
        assert handler is not None
        copy.on(name)(_known_only(handler, cutoff))
    return copy


async def replay_into(
    db: Database,
    projections: Sequence[Projection],
    nc: NATS,
    *,
    stream: str,
    subjects: Subjects,
    registry: EventRegistry,
    known_on: date | None = None,
    batch_size: int = 5000,
) -> int:
    """Build ``projections`` from the start of the stream into ``db``; return events read.

    ``db`` must be a throw-away database (see ``memory_database``). ``report_facts`` into
    SQLite goes by :func:`replay_facts`, any other projection by the engine's ``Runner``.
    """
    read = 0
    for projection in projections:
        if projection is report_facts and not db.postgres:
            read += await replay_facts(
                db,
                nc,
                stream=stream,
                subjects=subjects,
                registry=registry,
                known_on=known_on,
                batch_size=batch_size,
            )
            continue
        runner = Runner(
            as_known_on(projection, known_on),
            db,
            nc,
            stream=stream,
            subjects=subjects,
            registry=registry,
            batch_size=batch_size,
        )
        await runner.install()
        read += await runner.catch_up()
    return read


async def replay_facts(
    db: Database,
    nc: NATS,
    *,
    stream: str,
    subjects: Subjects,
    registry: EventRegistry,
    known_on: date | None = None,
    batch_size: int = 5000,
    processes: int | None = None,
    min_range: int = PARALLEL_MIN_EVENTS,
) -> int:
    """Build ``report_facts`` from the start of the stream into SQLite ``db``; return events
    read. The same rows as the ``Runner`` over ``as_known_on(report_facts, known_on)``.

    A fact row depends on its own event only, except ``voided_by``: so rows go in without it,
    range by range, and the take-backs are applied afterwards in stream order
    (``apply_voids``). A stream of at least ``2 * min_range`` events is split into up to
    ``processes`` contiguous ranges (default: the CPUs, at most ``MAX_PROCESSES``); this
    process replays the first, a child process (``ranges.run_child``) each other one into a
    temporary SQLite file, over its own NATS connection, and the files are copied in here
    (a range whose child fails is read here after all). The last range reads to the end,
    as the single-process replay does. The keys of ``rf_events`` are built after loading.
    On a record that cannot be read the replay stops with ``ProjectionError``, naming the
    lowest such stream sequence, as the engine does.
    """
    cutoff = None if known_on is None else known_cutoff(known_on)
    await asyncio.to_thread(db.execute, BULK_TABLE)
    info = await nc.jetstream().stream_info(stream)
    first, last = max(int(info.state.first_seq), 1), int(info.state.last_seq)
    count = processes or min(_cpus(), MAX_PROCESSES)
    count = max(1, min(count, (last - first + 1) // max(min_range, 1)))
    connect = connect_options(nc) if count > 1 and registry is default_registry() else None
    if connect is None:
        count = 1
    bounds = [first + (last - first + 1) * i // count for i in range(count)]
    ranges = [(start, end - 1) for start, end in itertools.pairwise(bounds)]
    ranges.append((bounds[-1], -1))  # the last one to the end
    _sweep_stale_folders()
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-") as tmp:
        jobs = [
            Job(
                connect or {},
                stream,
                subjects,
                start,
                end,
                cutoff,
                str(Path(tmp) / f"{i}.db"),
                batch_size,
            )
            for i, (start, end) in enumerate(ranges[1:], start=1)
        ]
        children = [asyncio.ensure_future(run_child(job)) for job in jobs]
        try:
            start, end = ranges[0]
            own = await replay_range(
                nc, db, stream, subjects, registry, start, end, cutoff, batch_size
            )
            parts: list[tuple[Outcome, str | None]] = [(own, None)]
            for job, done in zip(jobs, await asyncio.gather(*children), strict=True):
                if done is not None:
                    parts.append((done, job.path))
                    continue
                # the child failed: this process reads the range itself
                here = await replay_range(
                    nc, db, stream, subjects, registry, job.start, job.end, cutoff, batch_size
                )
                parts.append((here, None))
        finally:
            for child in children:
                child.cancel()
            await asyncio.gather(*children, return_exceptions=True)
        return await asyncio.to_thread(_finish, db, parts)


def _cpus() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):  # not on every platform
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _finish(db: Database, parts: list[tuple[Outcome, str | None]]) -> int:
    """Copy in the ranges' rows (from their file, unless they are here already) up to the
    first range that stopped, build the keys, apply the take-backs; or raise at the lowest
    sequence that stopped a range or repeats an event id."""
    stopped = None
    for (_read, failed), path in parts:
        if path is not None:
            _merge(db, path)
        if failed is not None:
            stopped = failed
            break  # the ranges after a stopped one count as never reached
    repeated = _build_keys(db)
    failed = min((f for f in (stopped, repeated) if f is not None), default=None)
    if failed is not None:
        raise ProjectionError(report_facts.key, failed[0], failed[1])
    db.execute("BEGIN")
    try:
        apply_voids(db)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return sum(read for (read, _failed), _path in parts)


def _merge(db: Database, path: str) -> None:
    """Append the rows of the range file ``path``."""
    db.execute("ATTACH DATABASE ? AS part", (path,))
    try:
        db.execute("INSERT INTO main.rf_events SELECT * FROM part.rf_events")
    finally:
        db.execute("DETACH DATABASE part")


def _build_keys(db: Database) -> Failure | None:
    """Build the keys of ``rf_events``; if an event id repeats, the first row that repeats it
    (the one the engine's insert stops at) with the database's reason."""
    try:
        for statement in BULK_KEYS:
            db.execute(statement)
    except sqlite3.IntegrityError as exc:
        seq, name = db.execute(
            "SELECT seq, name FROM (SELECT seq, name, row_number() OVER"
            " (PARTITION BY event_id ORDER BY seq) AS n FROM rf_events)"
            " WHERE n > 1 ORDER BY seq LIMIT 1"
        ).fetchone()
        return int(seq), reason(str(name), exc)
    return None
