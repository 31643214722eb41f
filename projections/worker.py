"""The projection worker: runs projections side by side until stopped, and reports lag."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from nats.aio.client import Client as NATS

from events.registry import EventRegistry
from events.subjects import Subjects
from projections import checkpoints
from projections.engine import BATCH_SIZE, IDLE_WAIT_S, Group, Progress, Runner
from projections.projection import Projection
from projections.wakeup import WakeUp
from services.db import Database
from services.settings import Settings

log = logging.getLogger("doorstroom.projections")


@dataclass(frozen=True, slots=True)
class Status:
    key: str
    position: int
    last_seq: int
    updated_at: str | None

    @property
    def lag(self) -> int:
        return max(self.last_seq - self.position, 0)


async def run_projections(
    nc: NATS,
    settings: Settings,
    registry: EventRegistry,
    projections: Sequence[Projection],
    stop: asyncio.Event,
    *,
    batch_size: int = BATCH_SIZE,
    idle_wait_s: float = IDLE_WAIT_S,
    progress: Progress | None = None,
) -> None:
    """Run the projections from one shared read, each on its own connection and checkpoint,
    until ``stop`` is set.

    A failing projection stops the worker once the others have written the batch in hand,
    with its ``ProjectionError``: a worker never runs on with a projection stopped inside.
    """
    subjects = Subjects(settings.subject_prefix)
    dbs = [Database.connect(settings.db_url) for _ in projections]
    try:
        async with WakeUp(nc.jetstream(), subjects.all_events, settings.stream) as wake:
            group = Group(
                [
                    Runner(
                        p,
                        db,
                        nc,
                        stream=settings.stream,
                        subjects=subjects,
                        registry=registry,
                        batch_size=batch_size,
                        idle_wait_s=idle_wait_s,
                        progress=progress,
                    )
                    for p, db in zip(projections, dbs, strict=True)
                ]
            )
            try:
                await group.run(stop, wake.listener())
            except BaseException:
                stop.set()
                raise
    finally:
        for db in dbs:
            db.close()


async def statuses(nc: NATS, settings: Settings, projections: Sequence[Projection]) -> list[Status]:
    """Each projection's checkpoint against the stream's last sequence."""
    info = await nc.jetstream().stream_info(settings.stream)
    db = Database.connect(settings.db_url)
    try:
        stored = await asyncio.to_thread(checkpoints.checkpoints, db)
    finally:
        db.close()
    last = int(info.state.last_seq)
    out = []
    for p in projections:
        cp = stored.get(p.key)
        out.append(Status(p.key, cp.position if cp else 0, last, cp.updated_at if cp else None))
    return out
