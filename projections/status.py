"""How far each projection is behind the stream: position, lag in events and in seconds.

Lag in events is the stream's last sequence minus the projection's checkpoint. Lag in
seconds is how long the oldest event the projection has not applied yet has been stored:
``now`` minus the JetStream storage time of the event at ``position + 1``, and 0 when the
projection is at the stream's last sequence. It grows while a worker is stuck even when
nothing new is written, and it compares the server's clock with the reader's, so clock
skew shows up in it (it is never negative).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.aio.client import Client as NATS
from nats.js.errors import NotFoundError

from projections import checkpoints
from projections.checkpoints import Checkpoint
from projections.projection import Projection
from services.db import Database


@dataclass(frozen=True, slots=True)
class Lag:
    """One projection against the stream at one moment."""

    key: str
    position: int
    last_seq: int
    lag_seconds: float
    updated_at: str | None

    @property
    def lag_events(self) -> int:
        return max(self.last_seq - self.position, 0)


def utcnow() -> datetime:
    return datetime.now(UTC)


async def stored_at(nc: NATS, stream: str, seq: int) -> datetime | None:
    """When JetStream stored the message ``seq`` (a direct get), or None if there is none."""
    try:
        msg = await nc.jetstream().get_msg(stream, seq=seq, direct=True)
    except NotFoundError:
        return None
    return msg.time


async def lag_report(
    nc: NATS,
    stream: str,
    stored: Mapping[str, Checkpoint],
    projections: Sequence[Projection],
    *,
    clock: Callable[[], datetime] = utcnow,
) -> list[Lag]:
    """Each projection's stored checkpoint against the stream's last sequence.

    The checkpoints are read first: a position read after the stream's last sequence could
    be ahead of it.
    """
    info = await nc.jetstream().stream_info(stream)
    last = int(info.state.last_seq)
    now = clock()
    oldest: dict[int, datetime | None] = {}
    out = []
    for p in projections:
        cp = stored.get(p.key)
        position = cp.position if cp else 0
        seconds = 0.0
        if position < last:
            if position + 1 not in oldest:
                oldest[position + 1] = await stored_at(nc, stream, position + 1)
            since = oldest[position + 1]
            seconds = max((now - since).total_seconds(), 0.0) if since else 0.0
        out.append(Lag(p.key, position, last, seconds, cp.updated_at if cp else None))
    return out


async def lag_in(
    nc: NATS, stream: str, db_url: str, projections: Sequence[Projection]
) -> list[Lag]:
    """``lag_report`` with the checkpoints read from the database at ``db_url``."""
    db = await asyncio.to_thread(Database.connect, db_url)
    try:
        stored = await asyncio.to_thread(checkpoints.checkpoints, db)
    finally:
        db.close()
    return await lag_report(nc, stream, stored, projections)
