"""Reading the read models for a service: pooled connections, consistent snapshots, and a
bounded wait until a projection has reached a stream sequence.

A read runs the query module's function in one read transaction together with the
projection's checkpoint, so the answer is exactly the read model at that stream sequence
(rows and checkpoint commit together): never a mix of two positions.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import psycopg

from projections import checkpoints
from projections.positions import PositionBoard
from services.db import Database

T = TypeVar("T")

POOL_SIZE = 4
POLL_S = 0.1
"""How often a waiting reader looks at the checkpoint when no in-process worker signals."""
SAFETY_POLL_S = 1.0
"""The same when an in-process worker signals each commit (a lost signal costs this)."""


class NotBuiltError(LookupError):
    """The projection's tables or checkpoint do not exist yet: no worker has installed it."""


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[T]):
    """A query's answer and the stream sequence the read model was at when it was read."""

    position: int
    value: T


class _Held:
    """A connection whose ``commit`` is left to the snapshot (the query helpers commit after
    each statement on PostgreSQL; inside a snapshot that would end it)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def commit(self) -> None:
        """Deferred: the snapshot ends the transaction."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def _is_missing_table(exc: Exception) -> bool:
    if isinstance(exc, psycopg.errors.UndefinedTable):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc)


def snapshot(db: Database, key: str, fn: Callable[[Database], T]) -> Snapshot[T]:
    """``fn(db)`` and the checkpoint of ``key`` in one read transaction."""
    held = Database(db.url, _Held(db.conn), db.postgres)
    if not db.postgres:
        db.execute("BEGIN")
    try:
        position = checkpoints.stored_position(held, key)
        value = fn(held)
    except Exception as exc:
        db.rollback()
        if _is_missing_table(exc):
            raise NotBuiltError(key) from exc
        raise
    db.commit()
    if position is None:
        raise NotBuiltError(key)
    return Snapshot(position, value)


def _connect(url: str) -> Database:
    db = Database.connect(url)
    if db.postgres:
        db.conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        db.conn.read_only = True
    return db


class ReadModels:
    """Pooled read connections to the read-model database, shared by a service's requests."""

    def __init__(
        self,
        url: str,
        *,
        board: PositionBoard | None = None,
        max_wait_s: float = 5.0,
        size: int = POOL_SIZE,
    ) -> None:
        self.url, self.board, self.max_wait_s = url, board, max_wait_s
        self._idle: list[Database] = []
        self._lock = threading.Lock()
        self._slots = asyncio.Semaphore(size)

    async def read(self, key: str, fn: Callable[[Database], T]) -> Snapshot[T]:
        """``fn`` on a snapshot of the read model of projection ``key``."""
        return await self.run(lambda db: snapshot(db, key, fn))

    async def position(self, key: str) -> int:
        """The stored checkpoint of ``key``; ``NotBuiltError`` if it was never installed."""
        return (await self.read(key, lambda db: None)).position

    async def run(self, fn: Callable[[Database], T]) -> T:
        """``fn`` on a pooled connection in a worker thread (a broken connection is dropped)."""
        async with self._slots:
            return await asyncio.to_thread(self._run, fn)

    async def wait_for(self, key: str, seq: int, timeout: float) -> int:
        """Until ``key`` has reached ``seq`` or ``timeout`` seconds passed; its position.

        Woken by the in-process workers' reports when there are any, else by a short poll.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        poll = POLL_S if self.board is None else SAFETY_POLL_S
        while True:
            signal = self.board.signal() if self.board is not None else asyncio.Event()
            position = await self.position(key)
            remaining = deadline - loop.time()
            if position >= seq or remaining <= 0:
                return position
            await PositionBoard.wait(signal, min(poll, remaining))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for db in idle:
            db.close()

    def _run(self, fn: Callable[[Database], T]) -> T:
        with self._lock:
            db = self._idle.pop() if self._idle else None
        if db is None:
            db = _connect(self.url)
        try:
            result = fn(db)
        except BaseException as exc:
            if isinstance(exc, sqlite3.Error | psycopg.Error) or not _clean(db):
                db.close()
            else:
                self._give(db)
            raise
        self._give(db)
        return result

    def _give(self, db: Database) -> None:
        with self._lock:
            self._idle.append(db)


def _clean(db: Database) -> bool:
    """Is the connection outside any transaction (safe to hand to the next request)?"""
    if db.postgres:
        return bool(db.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE)
    return not db.conn.in_transaction
