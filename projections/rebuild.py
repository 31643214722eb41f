"""Rebuild read models from the start of the stream and swap them in atomically.

The projections replay into a staging place with the engine's own code: a separate SQLite
file, or a fresh PostgreSQL schema selected by ``search_path``. Meanwhile the old tables
keep answering queries. The swap is one transaction on the read-model database: the old
tables go, the new ones take their place, and the rebuilt checkpoint replaces the old one.

- SQLite: the staging file is attached and its rows are copied into freshly created tables
  inside one write transaction; readers keep their WAL snapshot of the old tables until it
  commits.
- PostgreSQL: ``DROP TABLE`` the old tables and ``ALTER TABLE ... SET SCHEMA`` the new ones.
  The swap first locks the projections' checkpoint rows, the first thing every batch of a
  running worker writes, so a worker's batch and the swap take turns and cannot deadlock.

A worker running ``projections run`` meanwhile finds its checkpoint changed on its next
batch (compare-and-set refused), reloads it and continues from the rebuilt position.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from nats.aio.client import Client as NATS

from events.registry import EventRegistry
from events.subjects import Subjects
from projections import checkpoints
from projections.engine import Group, Runner
from projections.projection import Projection
from services.db import Database, is_postgres, sqlite_path

REBUILD_BATCH = 5000

SwapHook = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class RebuildResult:
    keys: tuple[str, ...]
    position: int
    events: int
    seconds: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def rebuild(
    nc: NATS,
    db_url: str,
    *,
    stream: str,
    subjects: Subjects,
    registry: EventRegistry,
    projections: Sequence[Projection],
    batch_size: int = REBUILD_BATCH,
    progress: Callable[[int], None] | None = None,
    before_swap: SwapHook | None = None,
) -> RebuildResult:
    """Replay ``projections`` from the first event into staging, then swap them in.

    ``progress`` gets the lowest position reached after every batch; ``before_swap`` is
    awaited once the staging tables are complete, before the swap.
    """
    with staging(db_url) as place:
        dbs = [Database.connect(place.url) for _ in projections]
        try:
            for db in dbs:
                place.prepare(db)
            positions = {p.key: 0 for p in projections}

            def moved(key: str, position: int) -> None:
                positions[key] = position
                if progress is not None:
                    progress(min(positions.values()))

            group = Group(
                [
                    Runner(
                        p,
                        db,
                        nc,
                        stream=stream,
                        subjects=subjects,
                        registry=registry,
                        batch_size=batch_size,
                        progress=moved,
                    )
                    for p, db in zip(projections, dbs, strict=True)
                ]
            )
            await group.install()
            started = time.perf_counter()
            events = await group.catch_up()
            seconds = time.perf_counter() - started
            rebuilt = {r.key: r.position for r in group.runners}
        finally:
            for db in dbs:
                db.close()
        if before_swap is not None:
            await before_swap()
        await asyncio.to_thread(swap, db_url, place, projections, rebuilt)
    return RebuildResult(
        keys=tuple(p.key for p in projections),
        position=min(rebuilt.values()),
        events=events,
        seconds=seconds,
    )


@dataclass(frozen=True)
class Staging:
    """Where a rebuild writes: a separate SQLite file, or a PostgreSQL schema of its own."""

    url: str
    path: Path | None = None
    schema: str | None = None

    def prepare(self, db: Database) -> None:
        """Set up one connection to the staging place.

        Staging that a crash leaves half-written is thrown away, so it need not be synced.
        """
        if self.schema is not None:
            db.conn.execute(f"SET search_path TO {_ident(self.schema)}")
            db.conn.execute("SET synchronous_commit TO off")
            db.commit()
        else:
            db.execute("PRAGMA synchronous=OFF")
            db.execute("PRAGMA cache_size=-16384")  # 16 MB per connection: RSS stays bounded


@contextmanager
def staging(db_url: str) -> Iterator[Staging]:
    """A new staging place next to the read-model database, removed afterwards."""
    if is_postgres(db_url):
        yield from _pg_staging(db_url)
    else:
        yield from _sqlite_staging(db_url)


def _sqlite_staging(db_url: str) -> Iterator[Staging]:
    main = sqlite_path(db_url)
    path = main.with_name(f"{main.name}.rebuild-{uuid4().hex[:12]}")
    try:
        yield Staging(f"sqlite:///{path}", path=path)
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _pg_staging(db_url: str) -> Iterator[Staging]:
    schema = f"rebuild_{uuid4().hex[:12]}"
    admin = Database.connect(db_url)
    try:
        admin.execute(f"CREATE SCHEMA {_ident(schema)}")
        admin.commit()
        try:
            yield Staging(db_url, schema=schema)
        finally:
            admin.rollback()
            admin.execute(f"DROP SCHEMA IF EXISTS {_ident(schema)} CASCADE")
            admin.commit()
    finally:
        admin.close()


def _ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def swap(
    db_url: str, place: Staging, projections: Sequence[Projection], positions: dict[str, int]
) -> None:
    """Replace the projections' tables and checkpoints in one transaction."""
    db = Database.connect(db_url)
    try:
        checkpoints.ensure_meta(db)
        if place.schema is not None:
            _pg_swap(db, place.schema, projections, positions)
        elif place.path is not None:
            _sqlite_swap(db, place.path, projections, positions)
    finally:
        db.close()


def _sqlite_swap(
    db: Database, staged: Path, projections: Sequence[Projection], positions: dict[str, int]
) -> None:
    db.execute("ATTACH DATABASE ? AS staged", (str(staged),))
    try:
        with checkpoints.transaction(db):
            for projection in projections:
                for table in projection.tables:
                    statements = table.statements(postgres=False)
                    tables = [s for s in statements if s.upper().startswith("CREATE TABLE")]
                    db.execute(f"DROP TABLE IF EXISTS main.{table.name}")
                    for statement in tables:
                        db.execute(statement)
                    db.execute(
                        f"INSERT INTO main.{table.name} SELECT * FROM staged.{table.name}"  # noqa: S608
                    )
                    for statement in statements:
                        if statement not in tables:
                            db.execute(statement)
                _take_over(db, projection, positions[projection.key])
    finally:
        db.execute("DETACH DATABASE staged")


def _pg_swap(
    db: Database, schema: str, projections: Sequence[Projection], positions: dict[str, int]
) -> None:
    main = db.execute("SELECT current_schema()").fetchone()[0]
    with checkpoints.transaction(db):
        keys = sorted(p.key for p in projections)
        db.execute(
            "SELECT name FROM projection_checkpoints WHERE name = ANY(?) ORDER BY name FOR UPDATE",
            (keys,),
        )
        for projection in projections:
            for table in projection.tables:
                old, new = _ident(table.name), f"{_ident(schema)}.{_ident(table.name)}"
                db.execute(f"DROP TABLE IF EXISTS {_ident(main)}.{old}")
                db.execute(f"ALTER TABLE {new} SET SCHEMA {_ident(main)}")
            _take_over(db, projection, positions[projection.key])


def _take_over(db: Database, projection: Projection, position: int) -> None:
    """The tables belong to this projection version now, at the rebuilt position."""
    names = [t.name for t in projection.tables]
    previous = {
        row[0]
        for name in names
        for row in db.execute(
            "SELECT projection FROM projection_tables WHERE table_name = ?", (name,)
        ).fetchall()
    }
    for name in names:
        db.execute("DELETE FROM projection_tables WHERE table_name = ?", (name,))
        db.execute(
            "INSERT INTO projection_tables (table_name, projection) VALUES (?, ?)",
            (name, projection.key),
        )
    for old in previous - {projection.key}:
        owned = db.execute(
            "SELECT 1 FROM projection_tables WHERE projection = ?", (old,)
        ).fetchone()
        if owned is None:
            db.execute("DELETE FROM projection_checkpoints WHERE name = ?", (old,))
    checkpoints.set_position(db, projection.key, position)
