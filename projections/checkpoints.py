"""Checkpoints and table ownership in the read-model database, written with the view rows."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from projections.projection import Projection
from services.db import Database

META_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_checkpoints ("
    " name TEXT PRIMARY KEY,"
    " position BIGINT NOT NULL CHECK (position >= 0),"
    " updated_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS projection_tables ("
    " table_name TEXT PRIMARY KEY,"
    " projection TEXT NOT NULL)",
)


# Concurrent CREATE TABLE IF NOT EXISTS can collide on PostgreSQL; installs take turns.
INSTALL_LOCK = 0x70726F6A  # "proj"


class CheckpointError(RuntimeError):
    """A checkpoint that does not move forward from the expected position (refused)."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    name: str
    position: int
    updated_at: str


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """One write transaction (SQLite ``BEGIN IMMEDIATE``); rolled back on any exception."""
    db.begin()
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    db.commit()


def query(db: Database, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of a read, without leaving a PostgreSQL transaction open."""
    try:
        return list(db.execute(statement, params).fetchall())
    finally:
        if db.postgres:
            db.conn.commit()


def ensure_meta(db: Database) -> None:
    """The checkpoint and table-ownership tables, created if missing."""
    with transaction(db):
        if db.postgres:
            db.execute("SELECT pg_advisory_xact_lock(?)", (INSTALL_LOCK,))
        for statement in META_DDL:
            db.execute(statement)


def set_position(tx: Database, name: str, position: int) -> None:
    """Store ``position`` as the checkpoint of ``name`` whatever it was (a rebuild's swap)."""
    tx.execute(
        "INSERT INTO projection_checkpoints (name, position, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET position = excluded.position,"
        " updated_at = excluded.updated_at",
        (name, position, _now()),
    )


def install(db: Database, projection: Projection) -> int:
    """Create the projection's tables and checkpoint (idempotent); return its position.

    Refuses tables that another projection or version owns: their rows were built by other
    handlers, so applying this version's events on top would mix two read models.
    """
    with transaction(db):
        if db.postgres:
            db.execute("SELECT pg_advisory_xact_lock(?)", (INSTALL_LOCK,))
        for statement in META_DDL:
            db.execute(statement)
        for table in projection.tables:
            owner = db.execute(
                "SELECT projection FROM projection_tables WHERE table_name = ?", (table.name,)
            ).fetchone()
            if owner is not None and owner[0] != projection.key:
                raise CheckpointError(
                    f"{projection.key}: table {table.name} belongs to {owner[0]}; "
                    "rebuild the read model or give the new version its own tables"
                )
            if owner is None:
                db.execute(
                    "INSERT INTO projection_tables (table_name, projection) VALUES (?, ?)",
                    (table.name, projection.key),
                )
            for statement in table.statements(postgres=db.postgres):
                db.execute(statement)
        db.execute(
            "INSERT INTO projection_checkpoints (name, position, updated_at) VALUES (?, 0, ?)"
            " ON CONFLICT (name) DO NOTHING",
            (projection.key, _now()),
        )
        row = db.execute(
            "SELECT position FROM projection_checkpoints WHERE name = ?", (projection.key,)
        ).fetchone()
    return int(row[0])


def advance(tx: Database, name: str, expected: int, position: int) -> None:
    """Move the checkpoint from ``expected`` to a higher ``position`` inside the open transaction.

    Compare-and-set: if another worker moved it, or ``position`` does not increase, nothing
    is written and ``CheckpointError`` rolls the whole batch back.
    """
    moved = tx.execute(
        "UPDATE projection_checkpoints SET position = ?, updated_at = ?"
        " WHERE name = ? AND position = ? AND position < ?",
        (position, _now(), name, expected, position),
    ).rowcount
    if moved != 1:
        raise CheckpointError(
            f"checkpoint of {name} refused: {expected} -> {position} "
            f"(stored position is {stored_position(tx, name)})"
        )


def stored_position(db: Database, name: str) -> int | None:
    row = db.execute("SELECT position FROM projection_checkpoints WHERE name = ?", (name,))
    found = row.fetchone()
    return None if found is None else int(found[0])


def checkpoints(db: Database) -> dict[str, Checkpoint]:
    """Every stored checkpoint by name; empty if no projection ever ran on this database."""
    try:
        rows = query(db, "SELECT name, position, updated_at FROM projection_checkpoints")
    except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):
        db.rollback()
        return {}
    return {r[0]: Checkpoint(r[0], int(r[1]), str(r[2])) for r in rows}


def _now() -> str:
    return datetime.now(UTC).isoformat()
