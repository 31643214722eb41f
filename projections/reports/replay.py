"""Replay the stream into a throw-away store, optionally only what was known on a date.

This is the one place reports read the stream: it runs the engine's ``Runner`` over copies of
the report projections whose handlers skip events recorded after the cut-off. The live
read-model database is never touched.

*As known on K*: only events recorded (``recorded_at``) before the end of day K in the
document time zone (Europe/Brussels) are replayed. A retraction or correction recorded after
K is therefore not seen, and the view as known on K shows the original figure.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from nats.aio.client import Client as NATS

from events.codec import RecordedEvent
from events.envelope import BRUSSELS
from events.registry import EventRegistry
from events.subjects import Subjects
from projections.engine import Runner
from projections.projection import Handler, Projection, Tx
from services.db import Database


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

    ``db`` must be a throw-away database (see ``memory_database``).
    """
    read = 0
    for projection in projections:
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
