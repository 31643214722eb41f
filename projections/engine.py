"""The projection engine: follows the stream from each projection's checkpoint.

One read serves every projection of a worker (a :class:`Group`): the stream is read once,
from the lowest checkpoint, with a pull consumer that delivers into a message callback
(``services.jsread.read_batches``), and each event is decoded at most once, on first use,
for all projections that handle it. Each projection keeps its own checkpoint and writes
its rows and its checkpoint in one transaction per batch, like the eventsourcing library's
tracking recorder: a checkpoint that does not move forward from the expected position is
refused and the batch rolls back, so every event changes a read model exactly once.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import aclosing, contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from nats.aio.client import Client as NATS

from events.codec import RecordedEvent, decode
from events.registry import EventRegistry
from events.subjects import Subjects
from projections import checkpoints
from projections.projection import Projection, ProjectionError, Tx
from services.db import Database
from services.jsread import RawMessage, read_batches

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

    Otherwise read every event and skip undeclared names explicitly (a consumer takes one
    filter here, and merging several reads is not safe against replica lag).
    """
    if projection.handles >= set(known):
        return ReadPlan(subjects.all_events, precise=True)
    if len(projection.handles) == 1:
        return ReadPlan(subjects.event_type(next(iter(projection.handles))), precise=True)
    return ReadPlan(subjects.all_events, precise=False)


@dataclass
class Batch:
    """Messages read once for every projection of a worker; each decoded at most once."""

    raws: list[RawMessage]
    registry: EventRegistry
    _records: dict[int, RecordedEvent | Exception] = field(default_factory=dict)

    @property
    def last_seq(self) -> int:
        return self.raws[-1].seq

    def decode_all(self, names: frozenset[str]) -> None:
        """Decode every message of one of ``names`` now (errors kept for the projections)."""
        for index, raw in enumerate(self.raws):
            name = raw.subject.rsplit(".", 1)[-1]
            if name in names and index not in self._records:
                try:
                    self._records[index] = _decoded(raw, self.registry, name)
                except Exception as exc:
                    self._records[index] = exc

    def record(self, index: int, name: str) -> RecordedEvent:
        """The decoded event at ``index`` (its decode error, raised again for every user)."""
        found = self._records.get(index)
        if found is None:
            try:
                found = _decoded(self.raws[index], self.registry, name)
            except Exception as exc:
                found = exc
            self._records[index] = found
        if isinstance(found, Exception):
            raise found
        return found


def _decoded(raw: RawMessage, registry: EventRegistry, name: str) -> RecordedEvent:
    rec = decode(raw.data, registry, seq=raw.seq, reveal=False)
    if rec.name != name:
        raise ValueError(f"subject {raw.subject} carries a {rec.name} record")
    return rec


class _EventFailedError(Exception):
    def __init__(self, index: int, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.index, self.seq, self.reason = index, seq, reason


class Runner:
    """One projection against one read-model database connection: its checkpoint and writes.

    ``catch_up`` reads for this projection alone; a :class:`Group` shares one read between
    several runners and calls ``write`` for each.
    """

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
        self.rewritten = 0  # batches that failed the fast way and were written plainly

    @property
    def key(self) -> str:
        return self.projection.key

    async def install(self) -> int:
        """Create the tables if needed and load the checkpoint."""
        self.position = await asyncio.to_thread(checkpoints.install, self.db, self.projection)
        return self.position

    async def catch_up(self, stop: asyncio.Event | None = None) -> int:
        """Apply every stored event after the checkpoint; return how many were read."""
        return await Group([self]).catch_up(stop)

    async def run(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        """Catch up, then follow: read again on every wake-up or after the bounded wait."""
        await Group([self]).run(stop, wake)

    def write(self, batch: Batch) -> int:
        """Apply the batch's events after the checkpoint in one transaction; return how many.

        On a failing event the events before it are committed, then ``ProjectionError``
        names the projection, the stream sequence and the reason.
        """
        if batch.last_seq <= self.position:
            return 0
        first = next(i for i, raw in enumerate(batch.raws) if raw.seq > self.position)
        try:
            self._write(batch, first, len(batch.raws))
        except _EventFailedError as failed:
            # The failed transaction rolled back; the events before the failure still count.
            if failed.index > first:
                self._write(batch, first, failed.index)
            raise ProjectionError(self.key, failed.seq, failed.reason) from failed.__cause__
        return len(batch.raws) - first

    def _write(self, batch: Batch, first: int, end: int) -> None:
        """Rows and checkpoint in one transaction: all of ``batch[first:end]`` or nothing.

        The fast way defers the statements handlers mark with ``write_later`` into one
        ``executemany`` (SQLite) or one multi-row insert or COPY (PostgreSQL) per statement,
        and on PostgreSQL queues statements, sending them only when a handler reads an
        answer (:class:`_BatchTx`). An error can then surface at a later statement, so a
        batch that fails the fast way is written again statement by statement, which names
        the exact event.
        """
        try:
            self._transaction(batch, first, end, fast=True)
        except checkpoints.CheckpointError:
            raise
        except Exception:
            log.debug(
                "%s: batch failed the fast way; writing it again plainly", self.key, exc_info=True
            )
        else:
            return
        self.rewritten += 1
        self._transaction(batch, first, end, fast=False)

    def _transaction(self, batch: Batch, first: int, end: int, *, fast: bool) -> None:
        raws = batch.raws
        last = raws[end - 1].seq
        handler_of = self.projection.handler
        with checkpoints.transaction(self.db) as db:
            checkpoints.advance(db, self.key, self.position, last)
            with _statements(db, fast=fast) as tx:
                for index in range(first, end):
                    raw = raws[index]
                    name = raw.subject.rsplit(".", 1)[-1]
                    handler = handler_of(name)
                    if handler is None:
                        self._undeclared(raw, index, name)
                        continue
                    try:
                        handler(tx, batch.record(index, name))
                    except Exception as exc:
                        raise _EventFailedError(index, raw.seq, _reason(name, exc)) from exc
        self.position = last

    def _undeclared(self, raw: RawMessage, index: int, name: str) -> None:
        if self.plan.precise and self.plan.subject_filter == self.subjects.all_events:
            reason = (
                f"{name} is delivered by the subject filter {self.plan.subject_filter} "
                "but the projection does not declare it"
            )
            raise _EventFailedError(index, raw.seq, f"{name}: LookupError: {reason}")
        self.skipped += 1


@contextmanager
def _statements(db: Database, *, fast: bool) -> Iterator[Tx]:
    """The transaction handlers write into: the connection, or a :class:`_BatchTx`."""
    if not fast:
        yield db
        return
    tx = _BatchTx(db)
    yield tx
    tx.flush()


_WRITTEN_TABLE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)

# Statements per multi-row INSERT: keeps a single statement's text moderate.
ROWS_PER_INSERT = 1000


@functools.cache
def _written_table(statement: str) -> str | None:
    """The table a deferred statement writes, or None when it cannot be told from its text."""
    found = _WRITTEN_TABLE.match(statement)
    return None if found is None else found.group(1)


@dataclass(slots=True)
class _BatchTx:
    """Runs deferred statements, all rows at once, before a statement that needs them.

    A deferred write runs before any later statement whose text names its table (or before
    every later statement when its table cannot be told), and before the commit: rows that
    no statement of the handlers looks at, like a journal's, wait for the end of the batch.
    Deferred rows keep their order among themselves; statements of different text may run
    in another order than deferred, which ``write_later`` allows.

    On PostgreSQL statements are not sent one by one: each is written out with its
    parameters as literals and queued, and the queue goes to the server as one query when
    a handler reads an answer (rows, a row count) or the batch ends, so a batch costs one
    round trip per read instead of one protocol exchange per statement; each statement is
    prepared once per connection and queued as ``EXECUTE``. Deferred rows of an ``INSERT
    ... VALUES`` become a COPY (plain inserts of text, integers and NULLs) or multi-row
    inserts (on SQLite: ``executemany``). Statements still run in the order the handlers
    issue them; an error surfaces at the next read or at the end of the batch.
    """

    db: Database
    postgres: bool = False
    _later: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    _merged: dict[str, dict[object, tuple[Any, ...]]] = field(default_factory=dict)
    _queued: list[str] = field(default_factory=list)
    _waiting: dict[int, _Answer] = field(default_factory=dict)
    _checks: list[tuple[_Answer, str, type[Exception]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.postgres = self.db.postgres

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        if self._later or self._merged:
            self._flush_for(statement)
        if not self.postgres:
            return self.db.execute(statement, params)
        return self._queue(self.db.prepared(statement, params))

    def expect_one(
        self, statement: str, params: tuple[Any, ...], missing: str, error: type[Exception]
    ) -> None:
        """``update_one``: at once on SQLite; on PostgreSQL counted when the batch ends, so
        the statement waits in the queue like any other."""
        answer = self.execute(statement, params)
        if self.postgres:
            self._checks.append((answer, missing, error))
        elif answer.rowcount != 1:
            raise error(missing)

    def defer(self, statement: str, params: tuple[Any, ...]) -> None:
        self._later.setdefault(statement, []).append(params)

    def merge(
        self,
        statement: str,
        key: object,
        params: tuple[Any, ...],
        merge: Callable[[tuple[Any, ...], tuple[Any, ...]], tuple[Any, ...]],
    ) -> None:
        rows = self._merged.setdefault(statement, {})
        pending = rows.get(key)
        rows[key] = params if pending is None else merge(pending, params)

    def _queue(self, literal: str) -> _Answer:
        answer = _Answer(self)
        self._waiting[len(self._queued)] = answer
        self._queued.append(literal)
        return answer

    def send(self) -> None:
        """PostgreSQL: run the queued statements, and hand each its answer."""
        queued, waiting = self._queued, self._waiting
        if not queued:
            return
        self._queued, self._waiting = [], {}
        for index, (rowcount, rows) in self.db.script(queued, waiting).items():
            waiting[index].answered(rowcount, rows)

    def _run(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        if self.postgres:
            target = _copy_target(statement)
            if target is not None and _COPIED.issuperset(map(type, itertools.chain(*rows))):
                self.send()  # what the handlers wrote before these rows goes first
                self.db.copy(target, rows)
                return
            self._queued.extend(_inserts(self.db, statement, rows))
        else:
            self.db.executemany(statement, rows)

    def _flush_for(self, statement: str) -> None:
        """Run the deferred writes ``statement`` may see: those into a table it names."""
        for pending in (self._later, self._merged):
            for deferred in [d for d in pending if _needed_by(d, statement)]:
                rows = pending.pop(deferred)
                self._run(deferred, list(rows.values()) if isinstance(rows, dict) else rows)

    def flush(self) -> None:
        later, self._later = self._later, {}
        merged, self._merged = self._merged, {}
        for statement, rows in later.items():
            self._run(statement, rows)
        for statement, by_key in merged.items():
            self._run(statement, list(by_key.values()))
        self.send()
        checks, self._checks = self._checks, []
        for answer, missing, error in checks:
            if answer.rowcount != 1:
                raise error(missing)


@functools.lru_cache(maxsize=4096)
def _needed_by(deferred: str, statement: str) -> bool:
    """Whether ``statement`` names the table ``deferred`` writes (unknown: assume it does)."""
    table = _written_table(deferred)
    if table is None:
        return True
    return re.search(rf"\b{re.escape(table)}\b", statement, re.IGNORECASE) is not None


class _Answer:
    """The result of a queued statement, which sends the queue when first looked at."""

    __slots__ = ("_rowcount", "_rows", "_tx")

    def __init__(self, tx: _BatchTx) -> None:
        self._tx: _BatchTx | None = tx
        self._rowcount = -1
        self._rows: list[Any] | None = None

    def answered(self, rowcount: int, rows: list[Any] | None) -> None:
        self._tx, self._rowcount, self._rows = None, rowcount, rows

    def _wait(self) -> None:
        if self._tx is not None:
            self._tx.send()

    @property
    def rowcount(self) -> int:
        self._wait()
        return self._rowcount

    def fetchone(self) -> Any:
        self._wait()
        if self._rows is None:
            raise psycopg.ProgrammingError("the statement returned no rows")
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[Any]:
        self._wait()
        if self._rows is None:
            raise psycopg.ProgrammingError("the statement returned no rows")
        rows, self._rows = self._rows, []
        return rows


@dataclass(frozen=True, slots=True)
class _ValuesForm:
    """An ``INSERT INTO t (columns) VALUES (row) tail`` taken apart to repeat its row."""

    head: str
    row: str
    tail: str
    key: tuple[int, ...] | None  # positions of an ON CONFLICT DO UPDATE target


_INSERT_VALUES = re.compile(r"^\s*INSERT\s+INTO\s+\w+\s*\(([^()]*)\)\s*VALUES\s*\(", re.I)
_PLAIN_ROW = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")
_PLAIN_INSERT = re.compile(
    r"\s*INSERT\s+INTO\s+(\w+\s*\([^()]*\))\s*VALUES\s*(\(\s*\?(?:\s*,\s*\?)*\s*\))\s*;?\s*",
    re.I,
)
# Values that COPY's text format writes as the INSERT's literals would be (a bool, say,
# would reach a text column as 't' instead of 'true'; such rows are inserted instead).
_COPIED = frozenset({str, int, type(None)})


@functools.cache
def _copy_target(statement: str) -> str | None:
    """``t (columns)`` of a plain ``INSERT INTO t (columns) VALUES (?, ...)``: rows to COPY."""
    found = _PLAIN_INSERT.fullmatch(statement)
    if found is None or found.group(2).count("?") != found.group(1).count(",") + 1:
        return None
    return found.group(1)


_CONFLICT = re.compile(r"^\s*ON\s+CONFLICT\s*\(([^()]*)\)", re.I)
_DO_UPDATE = re.compile(r"\bDO\s+UPDATE\b", re.I)


@functools.cache
def _values_form(statement: str) -> _ValuesForm | None:
    """The parts of a one-row ``INSERT ... VALUES``, or None where rows cannot be joined.

    Rows join when only the row holds parameters. With ``ON CONFLICT ... DO UPDATE`` (which
    may not touch a row twice in one statement) the conflict target must be plain columns
    given by plain parameters, so that a repeated key can start a new statement.
    """
    found = _INSERT_VALUES.match(statement)
    if found is None:
        return None
    start = found.end() - 1
    end = _closing(statement, start)
    if end is None:
        return None
    head, row, tail = statement[:start], statement[start : end + 1], statement[end + 1 :]
    if "?" in head or "?" in tail or tail.lstrip().startswith(","):
        return None
    if not _DO_UPDATE.search(tail):
        return _ValuesForm(head, row, tail, None)
    key = _conflict_key(found.group(1), row, tail)
    return None if key is None else _ValuesForm(head, row, tail, key)


def _conflict_key(columns_text: str, row: str, tail: str) -> tuple[int, ...] | None:
    """Positions in a plain ``(?, ?, ...)`` row of the ``ON CONFLICT (...)`` columns."""
    target = _CONFLICT.match(tail)
    columns = [c.strip().lower() for c in columns_text.split(",")]
    if target is None or not _PLAIN_ROW.fullmatch(row) or row.count("?") != len(columns):
        return None
    keys = [c.strip().lower() for c in target.group(1).split(",")]
    if not set(keys) <= set(columns):
        return None
    return tuple(columns.index(k) for k in keys)


def _closing(text: str, start: int) -> int | None:
    """The index of the parenthesis that closes the one at ``start`` (quotes skipped)."""
    depth, quote = 0, ""
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return None


def _inserts(db: Database, statement: str, rows: list[tuple[Any, ...]]) -> Iterator[str]:
    """The literal statements that write ``rows`` in order: multi-row inserts where possible."""
    form = _values_form(statement)
    if form is None:
        for params in rows:
            yield db.prepared(statement, params)
        return
    head, tail = db.literal(form.head), db.literal(form.tail)
    values: list[str] = []
    keys: set[tuple[Any, ...]] = set()
    for params in rows:
        if form.key is not None:
            key = tuple(params[i] for i in form.key)
            if key in keys:
                yield head + ",".join(values) + tail
                values, keys = [], set()
            keys.add(key)
        values.append(db.literal(form.row, params))
        if len(values) == ROWS_PER_INSERT:
            yield head + ",".join(values) + tail
            values, keys = [], set()
    if values:
        yield head + ",".join(values) + tail


class Group:
    """Runners that share one read of the stream (one worker process).

    The read starts after the lowest checkpoint; each runner skips what it already has.
    SQLite runners write one after the other (one writer per database file); PostgreSQL
    runners write their transactions side by side in threads.
    """

    def __init__(self, runners: Sequence[Runner]) -> None:
        if not runners:
            raise ValueError("a group needs at least one runner")
        self.runners = list(runners)
        first = self.runners[0]
        self.nc, self.stream, self.registry = first.nc, first.stream, first.registry
        self.batch_size, self.idle_wait_s = first.batch_size, first.idle_wait_s
        filters = {r.plan.subject_filter for r in self.runners}
        self.subject_filter = filters.pop() if len(filters) == 1 else first.subjects.all_events
        self.parallel = all(r.db.postgres for r in self.runners) and len(self.runners) > 1
        self.handled = frozenset().union(*(r.projection.handles for r in self.runners))

    async def install(self) -> None:
        for runner in self.runners:
            await runner.install()

    async def catch_up(self, stop: asyncio.Event | None = None) -> int:
        """Apply every stored event after the checkpoints; return how many were read."""
        count = 0
        start = min(r.position for r in self.runners) + 1
        async for batch in self._read(start):
            count += len(batch.raws)
            await self._write(batch)
            if stop is not None and stop.is_set():
                break
        return count

    async def run(self, stop: asyncio.Event, wake: asyncio.Event) -> None:
        """Catch up, then follow: read again on every wake-up or after the bounded wait."""
        for runner in self.runners:
            await runner.install()
            log.info("%s: starting at stream sequence %d", runner.key, runner.position)
        while not stop.is_set():
            wake.clear()
            try:
                if await self.catch_up(stop):
                    for runner in self.runners:
                        log.info("%s: at stream sequence %d", runner.key, runner.position)
            except checkpoints.CheckpointError as refused:
                log.warning("%s; resuming from the stored checkpoints", refused)
                for runner in self.runners:
                    await runner.install()
                continue
            await _first_of(wake, stop, timeout=self.idle_wait_s)
        for runner in self.runners:
            log.info("%s: stopped at stream sequence %d", runner.key, runner.position)

    async def _read(self, start: int) -> AsyncIterator[Batch]:
        """Batches of the stream from ``start``, the next one read while one is written."""
        queue: asyncio.Queue[Batch | Exception | None] = asyncio.Queue(maxsize=1)

        async def produce() -> None:
            reader = read_batches(
                self.nc, self.stream, self.subject_filter, from_seq=start, batch=self.batch_size
            )
            try:
                async with aclosing(reader) as raws_of:
                    async for raws in raws_of:
                        batch = Batch(raws, self.registry)
                        # Decoding here overlaps with the writer thread's SQL (SQLite and
                        # psycopg release the GIL while the database works).
                        batch.decode_all(self.handled)
                        await queue.put(batch)
            except Exception as exc:
                await queue.put(exc)
            else:
                await queue.put(None)

        producer = asyncio.create_task(produce())
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            producer.cancel()
            await asyncio.gather(producer, return_exceptions=True)

    async def _write(self, batch: Batch) -> None:
        """Each runner's transaction for the batch; the first error after all have written."""
        if self.parallel:
            results = await asyncio.gather(
                *(asyncio.to_thread(r.write, batch) for r in self.runners), return_exceptions=True
            )
            errors = [r for r in results if isinstance(r, BaseException)]
        else:
            errors = await asyncio.to_thread(_write_each, self.runners, batch)
        for runner in self.runners:
            if runner.progress is not None:
                runner.progress(runner.key, runner.position)
        if errors:
            raise errors[0]


def _write_each(runners: Sequence[Runner], batch: Batch) -> list[BaseException]:
    errors: list[BaseException] = []
    for runner in runners:
        try:
            runner.write(batch)
        except Exception as exc:
            errors.append(exc)
    return errors


def _reason(name: str, exc: Exception) -> str:
    return f"{name}: {type(exc).__name__}: {exc}"


async def _first_of(*events: asyncio.Event, timeout: float) -> None:
    """Wait until any of ``events`` is set, at most ``timeout`` seconds."""
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
