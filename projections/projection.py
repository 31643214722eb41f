"""What a projection declares: its versioned name, the tables it owns and one handler per event."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from events.codec import RecordedEvent


class Tx(Protocol):
    """The open transaction a handler writes into (``?`` placeholders on every database)."""

    postgres: bool

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> Any: ...


Handler = Callable[[Tx, RecordedEvent], None]


def write_later(tx: Tx, statement: str, params: tuple[Any, ...]) -> None:
    """A write whose result no handler reads, that the engine may batch (``executemany``).

    It still runs before any later ``tx.execute`` whose statement names its table (the
    engine cannot see other dependencies: no triggers, views or foreign keys between a
    projection's tables) and before the commit, and in order with the other ``write_later``
    rows of the same statement text; only its order against deferred writes of other
    statements may change, so use it for inserts and upserts that no other deferred
    statement of the projection touches. A transaction without ``defer`` (tests, the
    benchmark's timing wrapper) runs it at once.
    """
    defer = getattr(tx, "defer", None)
    if defer is None:
        tx.execute(statement, params)
    else:
        defer(statement, params)


Params = tuple[Any, ...]


def merge_later(
    tx: Tx, statement: str, key: object, params: Params, merge: Callable[[Params, Params], Params]
) -> None:
    """A ``write_later`` of which only one row per ``key`` runs: ``merge(pending, params)``.

    For an upsert that many events of one case repeat (a "last activity" touch): between two
    statements of the transaction the engine keeps one pending row per key and folds each
    new one into it, so the statement runs once per key instead of once per event. ``merge``
    must give the row that has the same effect as running both in order. Like
    ``write_later`` it runs before any later ``tx.execute`` naming its table and before the
    commit.
    """
    merged = getattr(tx, "merge", None)
    if merged is None:
        tx.execute(statement, params)
    else:
        merged(statement, key, params, merge)


def update_one(
    tx: Tx,
    statement: str,
    params: tuple[Any, ...],
    missing: str,
    error: type[Exception] = LookupError,
) -> None:
    """A write that must change exactly one row: the event names something the case has.

    Anything else stops the projection with ``error(missing)`` as the reason. The engine may
    check the row count when the batch ends instead of at once (on PostgreSQL a count waits
    for the server): a batch that fails a check is then written again statement by
    statement, which stops at the exact event. So use it only where the handler does not
    go on to read what the write changed differently depending on the outcome.
    """
    check = getattr(tx, "expect_one", None)
    if check is not None:
        check(statement, params, missing, error)
    elif tx.execute(statement, params).rowcount != 1:
        raise error(missing)


class ProjectionError(RuntimeError):
    """A projection stopped: it names the projection, the stream sequence and the reason."""

    def __init__(self, projection: str, seq: int, reason: str) -> None:
        super().__init__(f"projection {projection} stopped at stream sequence {seq}: {reason}")
        self.projection = projection
        self.seq = seq
        self.reason = reason


@dataclass(frozen=True)
class Table:
    """A table the projection owns: portable DDL statements, optionally PostgreSQL's own."""

    name: str
    ddl: tuple[str, ...]
    postgres_ddl: tuple[str, ...] | None = None

    def statements(self, *, postgres: bool) -> tuple[str, ...]:
        return self.postgres_ddl if postgres and self.postgres_ddl is not None else self.ddl


@dataclass(eq=False)
class Projection:
    """A read model: ``key`` (name and version) keys its checkpoint and owns its tables.

    Bump ``version`` whenever the handlers would build different rows from the same events;
    the engine then refuses to write into the tables of the old version.
    """

    name: str
    version: int
    tables: tuple[Table, ...]
    _handlers: dict[str, Handler] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        return f"{self.name}.v{self.version}"

    @property
    def handles(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def on(self, *event_names: str) -> Callable[[Handler], Handler]:
        """Register ``fn`` as the handler of each of ``event_names`` (each name only once)."""

        def register(fn: Handler) -> Handler:
            for name in event_names:
                if name in self._handlers:
                    raise ValueError(f"{self.key}: {name} already has a handler")
                self._handlers[name] = fn
            return fn

        return register

    def handler(self, event_name: str) -> Handler | None:
        return self._handlers.get(event_name)

    def check_covers(self, names: Iterable[str]) -> None:
        """Refuse a projection that handles names unknown to the catalogue (typos)."""
        unknown = self.handles - set(names)
        if unknown:
            raise ValueError(f"{self.key} handles unknown events: {sorted(unknown)}")
