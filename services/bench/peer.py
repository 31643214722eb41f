"""The peer: the eventsourcing library's own ``Application`` on SQLite, with our domain.

Each case is an eventsourcing ``Aggregate`` whose command handling runs our pure
``decide`` and folds the resulting events with our ``evolve``, exactly as the command
service does; only the persistence differs (the library's SQLite recorder instead of
JetStream: no hash chain, no sealing of personal fields, which the peer leaves out).
Commands come from the same import files, parsed by the importer's own ``parse_line``; a
chunk of lines is decided case by case and saved in one ``Application.save`` (one SQLite
transaction), like our bulk import's batches.

The peer projection reads the peer application's notifications in batches and writes a
case directory (one row per case: office, version, last event, closed) into SQLite with
an eventsourcing tracking record in the same transaction, one transaction per batch.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate

from events.codec import RecordedEvent
from events.envelope import EventMeta
from events.registry import registry
from services.app import drafts
from services.domain import CaseState, DomainError, decide, evolve
from services.importer import parse_line
from services.refusals import Refusal
from services.store import Draft

CHUNK_LINES = 10_000


class PeerCase(Aggregate):
    """A case: our ``CaseState``, changed only by our domain events."""

    def __init__(self, id: UUID) -> None:
        self.state = CaseState(case_id=id)
        self.fresh: RecordedEvent | None = None

    class Recorded(Aggregate.Event):
        """One of our domain events (public fields), with its envelope."""

        name: str
        data: dict[str, Any]
        meta: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            rec = aggregate.fresh or _rebuild(
                self.name, self.data, self.meta, self.originator_version
            )
            aggregate.fresh = None
            aggregate.state = evolve(aggregate.state, rec)

    def record(self, draft: Draft) -> None:
        event = draft.event
        personal = event.personal_fields()
        public = event.model_copy(update=dict.fromkeys(personal)) if personal else event
        self.fresh = RecordedEvent(
            meta=draft.meta,
            event=public,
            stored_type=event.stored_type(),
            case_version=self.version,
            prev_hash="",
            hash="",
            sealed=bool(personal),
        )
        self.trigger_event(
            self.Recorded,
            name=event.stored_type(),
            data=public.model_dump(mode="json"),
            meta=draft.meta.model_dump(mode="json"),
        )


def _rebuild(stored_type: str, data: dict[str, Any], meta: dict[str, Any], version: int) -> Any:
    """Our recorded event from a stored peer event (a case not in the aggregate cache)."""
    name = stored_type.partition(".v")[0]
    cls = registry().get(name)
    return RecordedEvent(
        meta=EventMeta.model_validate(meta),
        event=cls.model_validate(data),
        stored_type=stored_type,
        case_version=version,
        prev_hash="",
        hash="",
        sealed=False,
    )


class PeerApplication(Application[UUID]):
    name = "DoorstroomPeer"


def open_peer(db_path: Path) -> PeerApplication:
    return PeerApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(db_path),
            "AGGREGATE_CACHE_MAXSIZE": "1000000",
            "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
        }
    )


def _lines(files: list[tuple[Path, str]], limit: int) -> Iterator[tuple[bytes, str]]:
    count = 0
    for path, office in files:
        with path.open("rb") as source:
            for raw in source:
                if count >= limit:
                    return
                count += 1
                yield raw, office


def run_peer_app(files: list[tuple[Path, str]], db_path: Path, limit: int) -> dict[str, Any]:
    """Decide and save up to ``limit`` lines through the peer; its events per second."""
    app = open_peer(db_path)
    now = datetime.now(UTC)
    events = refused = commands = 0
    started = time.perf_counter()
    chunk: list[tuple[bytes, str]] = []
    for item in _lines(files, limit):
        chunk.append(item)
        if len(chunk) >= CHUNK_LINES:
            e, r = _chunk(app, chunk, now)
            events, refused, commands = events + e, refused + r, commands + len(chunk)
            chunk = []
    if chunk:
        e, r = _chunk(app, chunk, now)
        events, refused, commands = events + e, refused + r, commands + len(chunk)
    seconds = time.perf_counter() - started
    app.close()
    return {
        "commands": commands,
        "events": events,
        "refused": refused,
        "seconds": round(seconds, 2),
        "events_per_s": round(events / seconds),
    }


def _chunk(app: PeerApplication, chunk: list[tuple[bytes, str]], now: datetime) -> tuple[int, int]:
    cases: dict[UUID, PeerCase] = {}
    events = refused = 0
    for raw, office in chunk:
        parsed = parse_line(raw, office, None, now)
        if isinstance(parsed, Refusal):
            refused += 1
            continue
        command, ctx = parsed
        case = cases.get(command.case_id)
        if case is None:
            try:
                case = app.repository.get(command.case_id)
            except AggregateNotFoundError:
                case = PeerCase(id=command.case_id)
            cases[command.case_id] = case
        if command.command_id in case.state.applied:
            continue
        try:
            new = drafts(command, ctx, decide(case.state, command, ctx))
        except DomainError:
            refused += 1
            continue
        for draft in new:
            case.record(draft)
        events += len(new)
    app.save(*cases.values())
    return events, refused
