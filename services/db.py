"""Minimal connection helper for SQLite and PostgreSQL URLs (``sqlite:///path`` or ``postgresql://``)."""

from __future__ import annotations

import functools
import itertools
import re
import sqlite3
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import abc, adapt


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not an sqlite URL: {url!r} (expected sqlite:///path)")
    return Path(url.removeprefix("sqlite:///"))


# Names of server-side prepared statements, unique in the process (connections may be shared).
_PREPARED_NAMES = itertools.count()


@dataclass
class Database:
    """A DB-API connection plus the dialect facts the SQL needs."""

    url: str
    conn: Any
    postgres: bool
    _transformer: abc.Transformer | None = field(default=None, repr=False, compare=False)
    _plain_quotes: bool = field(default=False, repr=False, compare=False)
    _prepared: dict[str, str | None] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def connect(cls, url: str) -> Database:
        if is_postgres(url):
            return cls(url, psycopg.connect(url, autocommit=False), postgres=True)
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=30, cached_statements=512
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return cls(url, conn, postgres=False)

    def sql(self, statement: str) -> str:
        """Statements are written with ``?`` placeholders; PostgreSQL wants ``%s``."""
        return statement.replace("?", "%s") if self.postgres else statement

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        return self.conn.execute(self.sql(statement), params)

    def executemany(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        """One statement for many rows (psycopg has it on cursors, sqlite3 on connections too)."""
        if self.postgres:
            with self.conn.cursor() as cursor:
                cursor.executemany(self.sql(statement), rows)
        else:
            self.conn.executemany(statement, rows)

    def literal(self, statement: str, params: tuple[Any, ...] = ()) -> str:
        """PostgreSQL: ``statement`` with its parameters written in as SQL literals.

        The same values as psycopg's client-side binding (``ClientCursor.mogrify``); common
        values are quoted here, which is several times quicker, the rest by psycopg.
        """
        pieces = _pieces(statement)
        if pieces is None or len(pieces) != len(params) + 1:
            return str(psycopg.ClientCursor(self.conn).mogrify(self.sql(statement), params))
        out = [pieces[0]]
        for value, piece in zip(self._literals(params), pieces[1:], strict=True):
            out.append(value)
            out.append(piece)
        return "".join(out)

    def prepared(self, statement: str, params: tuple[Any, ...]) -> str:
        """PostgreSQL: like :meth:`literal`, as ``EXECUTE`` of a statement prepared once.

        The server then parses and plans the statement once per connection, not on every
        call (as psycopg's own prepared statements do). A statement that cannot be prepared
        (a parameter whose type the server cannot tell) is written out in full.
        """
        name = self._prepared.get(statement, "")
        if name == "":
            name = self._prepare(statement)
        if name is None or len(params) != statement.count("?"):
            return self.literal(statement, params)
        return f"EXECUTE {name}({','.join(self._literals(params))})"

    def _prepare(self, statement: str) -> str | None:
        pieces = _pieces(statement)
        name: str | None = None
        if pieces is not None and len(pieces) > 1:
            name = f"doorstroom_{next(_PREPARED_NAMES)}"
            numbered = "".join(f"${n}{piece}" for n, piece in enumerate(pieces[1:], 1))
            try:
                with self.conn.transaction():  # a savepoint: a refusal leaves the rest alone
                    self.conn.execute(f"PREPARE {name} AS {pieces[0]}{numbered}".encode())
            except psycopg.Error:
                name = None
        self._prepared[statement] = name
        return name

    def _literals(self, params: tuple[Any, ...]) -> list[str]:
        transformer = self._transformer
        if transformer is None:
            self._transformer = transformer = adapt.Transformer(self.conn)
            # Backslashes are plain characters in '...' only with standard_conforming_strings.
            status = self.conn.info.parameter_status("standard_conforming_strings")
            self._plain_quotes = status == "on"
        plain = self._plain_quotes
        out: list[str] = []
        for value in params:
            kind = type(value)
            if kind is str and plain and "\\" not in value and "\x00" not in value:
                out.append("'" + value.replace("'", "''") + "'")
            elif kind is int:
                out.append(str(value) if value >= 0 else f" {value}")
            elif value is None:
                out.append("NULL")
            elif kind is bool:
                out.append("true" if value else "false")
            else:
                literal = bytes(transformer.as_literal(value))
                out.append(literal.decode(self.conn.info.encoding))
        return out

    def copy(self, target: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """PostgreSQL: ``COPY target FROM STDIN`` of ``rows`` (``target``: a table and columns)."""
        with self.conn.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def script(
        self, statements: Sequence[str], wanted: Container[int]
    ) -> dict[int, tuple[int, list[Any] | None]]:
        """PostgreSQL: run literal statements as one query (one round trip), in order.

        Returns the row count and rows (None for statements without a result set) of each
        statement whose index is in ``wanted``. The first failing statement raises, and the
        open transaction is then aborted.
        """
        answers: dict[int, tuple[int, list[Any] | None]] = {}
        with self.conn.cursor() as cursor:
            # On lines of their own: a statement may end in a -- comment.
            script = "\n;\n".join(statements).encode(self.conn.info.encoding)
            cursor.execute(script, prepare=False)
            index = 0
            while True:
                if index in wanted:
                    rows = cursor.fetchall() if cursor.description is not None else None
                    answers[index] = (cursor.rowcount, rows)
                index += 1
                if not cursor.nextset():
                    break
        if index != len(statements):
            raise psycopg.ProgrammingError(
                f"{len(statements)} statements gave {index} results (one holds several?)"
            )
        return answers

    def begin(self) -> None:
        if not self.postgres:
            self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        if self.postgres:
            self.conn.commit()
        else:
            self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.postgres:
            self.conn.rollback()
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()


@functools.lru_cache(maxsize=1024)
def _pieces(statement: str) -> tuple[str, ...] | None:
    """PostgreSQL's text of ``statement`` around each placeholder (``%%`` unescaped).

    None for any other ``%`` sequence, which psycopg's own binding then deals with.
    """
    pieces: list[str] = []
    current: list[str] = []
    tokens = re.split(r"(%.?)", statement.replace("?", "%s"), flags=re.DOTALL)
    for index, token in enumerate(tokens):
        if index % 2 == 0:
            current.append(token)
        elif token == "%%":  # noqa: S105 (SQL, not a password)
            current.append("%")
        elif token == "%s":  # noqa: S105
            pieces.append("".join(current))
            current = []
        else:
            return None
    pieces.append("".join(current))
    return tuple(pieces)
