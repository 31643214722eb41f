"""Read models whose rows each belong to one case: a journal lets a retraction or correction
rebuild that one case from its remaining events.

A :class:`CaseProjection` keeps, next to its own tables, the public payload of every event it
applied (``<name>_journal``). An ``EventRetracted`` of a journalled event, or an event whose
envelope ``corrects`` one, deletes the case's rows and applies the case's journal again without
the events that no longer count. So a retraction or correction gives the same rows as a history
in which the replaced event never happened, and a full replay gives the same rows as the
incremental run. Handlers stay plain "apply this event" functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson

from events.case import EventRetracted
from events.codec import RecordedEvent
from events.envelope import EventMeta
from events.registry import registry
from projections.projection import Handler, Projection, Table, Tx, write_later

RETRACTED = "EventRetracted"


def journal_table(name: str) -> Table:
    table = f"{name}_journal"
    return Table(
        name=table,
        ddl=(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " seq BIGINT PRIMARY KEY,"
            " case_id TEXT NOT NULL,"
            " event_id TEXT NOT NULL,"
            " stored_type TEXT NOT NULL,"
            " case_version BIGINT NOT NULL,"
            " hash TEXT NOT NULL,"
            " meta TEXT NOT NULL,"
            " data TEXT NOT NULL,"
            " UNIQUE (case_id, event_id))",
        ),
    )


def voided_by(rec: RecordedEvent) -> UUID | None:
    """The event id that ``rec`` retracts or corrects, if any."""
    if isinstance(rec.event, EventRetracted):
        if rec.meta.corrects is not None:
            raise ValueError("a retraction cannot also be a correction")
        return rec.event.retracted_event_id
    return rec.meta.corrects


def voided_events(records: Sequence[RecordedEvent], known: Iterable[UUID]) -> set[UUID]:
    """Ids among ``known`` replaced by a later retraction or correction that itself counts.

    Walks from the newest event back: a retracted retraction (or correction) voids nothing.
    Retracting an event twice is harmless; two corrections of one event that both count
    leave it open which replacement holds, so they are refused.
    """
    journalled = set(known)
    voided: set[UUID] = set()
    corrected: set[UUID] = set()
    for rec in reversed(records):
        if rec.meta.event_id in voided:
            continue
        target = voided_by(rec)
        if target is None or target not in journalled:
            continue
        if rec.meta.corrects is not None:
            if target in corrected:
                raise ValueError(f"event {target} is corrected twice")
            corrected.add(target)
        voided.add(target)
    return voided


@dataclass(eq=False)
class CaseProjection(Projection):
    """A projection whose tables all have a ``case_id`` column, rebuilt per case on a retraction.

    Register handlers with ``on`` as usual; ``EventRetracted`` must be among them (its handler
    runs like any other, after the rebuild when the retracted event was journalled).
    """

    case_tables: tuple[str, ...] = field(init=False)
    journal: Table = field(init=False)
    _apply: dict[str, Handler] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.case_tables = tuple(t.name for t in self.tables)
        self.journal = journal_table(self.name)
        self.tables = (*self.tables, self.journal)

    def on(self, *event_names: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            Projection.on(self, *event_names)(self._journalled)
            for name in event_names:
                self._apply[name] = fn
            return fn

        return register

    def check_covers(self, names: Iterable[str]) -> None:
        super().check_covers(names)
        if RETRACTED not in self.handles:
            raise ValueError(f"{self.key} keeps a journal and must handle {RETRACTED}")

    def _journalled(self, tx: Tx, rec: RecordedEvent) -> None:
        case_id = str(rec.meta.case_id)
        self._write(tx, rec)
        target = voided_by(rec)
        if target is None:
            self._apply[rec.name](tx, rec)
            return
        found = tx.execute(
            f"SELECT stored_type FROM {self.journal.name} WHERE case_id = ? AND event_id = ?",  # noqa: S608
            (case_id, str(target)),
        ).fetchone()
        if found is None:
            if rec.meta.corrects is not None:
                raise LookupError(f"corrects event {target}, which {self.key} never applied")
            self._apply[rec.name](tx, rec)  # retracts an event this read model does not use
            return
        corrected_name = str(found[0]).rsplit(".v", 1)[0]
        if rec.meta.corrects is not None and corrected_name != rec.name:
            raise ValueError(f"a {rec.name} cannot correct a {corrected_name} ({target})")
        self.rebuild(tx, case_id)

    def _write(self, tx: Tx, rec: RecordedEvent) -> None:
        # One serialiser call each (pydantic's JSON, as compact as orjson's): this runs for
        # every event a journalled read model handles.
        public = rec.event.model_dump_json(exclude=set(rec.event.personal_fields()))
        write_later(
            tx,
            f"INSERT INTO {self.journal.name} (seq, case_id, event_id, stored_type,"  # noqa: S608
            " case_version, hash, meta, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rec.seq,
                str(rec.meta.case_id),
                str(rec.meta.event_id),
                rec.event.stored_type(),
                rec.case_version,
                rec.hash,
                rec.meta.model_dump_json(),
                public,
            ),
        )

    def rebuild(self, tx: Tx, case_id: str) -> None:
        """Delete the case's rows and apply its journalled events that still count."""
        for table in self.case_tables:
            tx.execute(f"DELETE FROM {table} WHERE case_id = ?", (case_id,))  # noqa: S608
        rows = tx.execute(
            f"SELECT seq, stored_type, case_version, hash, meta, data FROM {self.journal.name}"  # noqa: S608
            " WHERE case_id = ? ORDER BY seq",
            (case_id,),
        ).fetchall()
        records = [_load(row) for row in rows]
        voided = voided_events(records, (r.meta.event_id for r in records))
        for rec in records:
            if rec.meta.event_id not in voided:
                self._apply[rec.name](tx, rec)


def _load(row: tuple[Any, ...]) -> RecordedEvent:
    seq, stored_type, case_version, digest, meta, data = row
    name, version = str(stored_type).rsplit(".v", 1)
    payload: dict[str, Any] = orjson.loads(data)
    for personal in registry().get(name).personal_fields():
        payload.setdefault(personal, None)
    return RecordedEvent(
        meta=EventMeta.model_validate_json(meta),
        event=registry().load(name, int(version), payload),
        stored_type=str(stored_type),
        case_version=int(case_version),
        prev_hash="",
        hash=str(digest),
        seq=int(seq),
    )
