"""The projection engine: follows the stream from a checkpoint, one transaction per batch."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nats.aio.client import Client as NATS

from events.codec import decode
from events.registry import EventRegistry
from events.subjects import Subjects
from projections import checkpoints
from projections.projection import Projection, ProjectionError, Tx
from services.db import Database
from services.jsread import RawMessage, read_filtered

log = logging.getLogger("doorstroom.projections")

BATCH_SIZE = 1000
IDLE_WAIT_S = 5.0

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class ReadPlan:
    """The subject filter to read, and whether it delivers only declared events."""

    subject_filter: str
    precise: bool


def read_plan(projection: Projection, known: Sequence[str], subjects: Subjects) -> ReadPlan:
    """Filter by subject where one filter can: every event, or one event name.

    Otherwise read every event and skip undeclared names explicitly (JetStream's direct
    get takes one filter, and merging several reads is not safe against replica lag).
    """
    if projection.handles >= set(known):
        return ReadPlan(subjects.all_events, precise=True)
    if len(projection.handles) == 1:
        return ReadPlan(subjects.event_type(next(iter(projection.handles))), precise=True)
    return ReadPlan(subjects.all_events, precise=False)


class _EventFailedError(Exception):
    def __init__(self, index: int, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.index, self.seq, self.reason = index, seq, reason


class Runner:
    """Runs one projection against one read-model database connection."""

    def __init__(
        self,
        projection: Projection,
        db: Database,
        nc: NATS,
        *,
        stream: str,
        subjects: Subjects,
        registry: EventRegistry,
        batch_size: int = BATCH_SIZE,
        idle_wait_s: float = IDLE_WAIT_S,
        progress: Progress | None = None,
    ) -> None:
        projection.check_covers(registry.names())
        self.projection, self.db, self.nc = projection, db, nc
        self.stream, self.subjects, self.registry = stream, subjects, registry
        self.batch_size, self.idle_wait_s = batch_size, idle_wait_s
        self.progress = progress
        self.plan = read_plan(projection, registry.names(), subjects)
        self.position = 0
        self.skipped = 0

    @property
    def key(self) -> str:
        return self.projection.key

    async def install(self) -> int:
        """Create the tables if needed and load the checkpoint."""
        self.position = await asyncio.to_thread(checkpoints.install, self.db, self.projection)
        return self.position

    async def catch_up(self, stop: asyncio.Event | None = None) -> int:
        """Apply every stored event after the checkpoint; return how many were read."""
        count = 0
        batch: list[RawMessage] = []
        source = read_filtered(
            self.nc, self.stream, self.plan.subject_filter, from_seq=self.position + 1
        )
        async for raw in source:
            batch.append(raw)
            if len(batch) >= self.batch_size:
                count += await self._commit(batch)
                batch = []
                if stop is not None and stop.is_set():
                    return count
        if batch:
            count += await self._commit(batch)
        return count

    async def run(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        """Catch up, then follow: read again on every wake-up or after the bounded wait."""
        await self.install()
        log.info("%s: starting at stream sequence %d", self.key, self.position)
        while not stop.is_set():
            wake.clear()
            try:
                if await self.catch_up(stop):
                    log.info("%s: at stream sequence %d", self.key, self.position)
            except checkpoints.CheckpointError as refused:
                log.warning("%s: %s; resuming from the stored checkpoint", self.key, refused)
                await self.install()
                continue
            await _first_of(wake, stop, timeout=self.idle_wait_s)
        log.info("%s: stopped at stream sequence %d", self.key, self.position)

    async def _commit(self, batch: list[RawMessage]) -> int:
        try:
            await asyncio.to_thread(self._apply, batch)
        finally:
            if self.progress is not None:
                self.progress(self.key, self.position)
        return len(batch)

    def _apply(self, batch: list[RawMessage]) -> None:
        try:
            self._write(batch)
        except _EventFailedError as failed:
            # The failed transaction rolled back; the events before the failure still count.
            if failed.index:
                self._write(batch[: failed.index])
            raise ProjectionError(self.key, failed.seq, failed.reason) from failed.__cause__

    def _write(self, batch: Sequence[RawMessage]) -> None:
        """Rows and checkpoint in one transaction: all of the batch or nothing."""
        last = batch[-1].seq
        with checkpoints.transaction(self.db) as tx:
            checkpoints.advance(tx, self.key, self.position, last)
            for index, raw in enumerate(batch):
                try:
                    self._apply_one(tx, raw)
                except Exception as exc:
                    raise _EventFailedError(index, raw.seq, _reason(raw, exc)) from exc
        self.position = last

    def _apply_one(self, tx: Tx, raw: RawMessage) -> None:
        name = raw.subject.rsplit(".", 1)[-1]
        handler = self.projection.handler(name)
        if handler is None:
            if self.plan.precise:
                raise LookupError(
                    f"{name} is delivered by the subject filter {self.plan.subject_filter} "
                    "but the projection does not declare it"
                )
            self.skipped += 1
            return
        rec = decode(raw.data, self.registry, seq=raw.seq, reveal=False)
        if rec.name != name:
            raise ValueError(f"subject {raw.subject} carries a {rec.name} record")
        handler(tx, rec)


def _reason(raw: RawMessage, exc: Exception) -> str:
    return f"{raw.subject.rsplit('.', 1)[-1]}: {type(exc).__name__}: {exc}"


async def _first_of(*events: asyncio.Event, timeout: float) -> None:
    """Wait until any of ``events`` is set, at most ``timeout`` seconds."""
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
