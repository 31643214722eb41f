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

    It still runs before any later ``tx.execute`` of the transaction and before the commit,
    and in order with the other ``write_later`` rows of the same statement text; only its
    order against deferred writes of other statements may change, so use it for inserts
    and upserts that no other deferred statement of the projection touches. A transaction
    without ``defer`` (tests, the benchmark's timing wrapper) runs it at once.
    """
    defer = getattr(tx, "defer", None)
    if defer is None:
        tx.execute(statement, params)
    else:
        defer(statement, params)


def update_one(tx: Tx, statement: str, params: tuple[Any, ...], missing: str) -> None:
    """An UPDATE that must change exactly one row: the event names something the case has.

    Anything else stops the projection with ``missing`` as the reason.
    """
    if tx.execute(statement, params).rowcount != 1:
        raise LookupError(missing)


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
