"""The eventsourcing library's own ``Projection`` into an SQLite view, for comparison.

A ``Projection[CaseCountsView]`` whose ``process_event`` counts each event on its case's
row; the view is an ``SQLiteTrackingRecorder``, so rows and the tracking record (the stream
sequence) commit in one transaction, as the library designs exactly-once views. Events are
handed over in batches and each batch is one transaction with one tracking record. It
reads the same stream with the same reader and decodes with the same codec, so the figure
compares the library's view machinery with the engine's, not two different inputs.
"""

from __future__ import annotations

import time
from functools import singledispatchmethod
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from nats.aio.client import Client as NATS

from events.codec import RecordedEvent, decode
from events.registry import EventRegistry
from services.jsread import read_batches

APPLICATION = "doorstroom"


class CaseCountsView(SQLiteTrackingRecorder):
    """Events per case and the case's office, written with the tracking record."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS case_counts ("
            " case_id TEXT PRIMARY KEY, office_id TEXT NOT NULL,"
            " events INTEGER NOT NULL, last_seq INTEGER NOT NULL)",
        ]

    def count(self, rows: list[tuple[str, str, int]], tracking: Tracking) -> None:
        """One transaction: every row of the batch and one tracking record."""
        with self.datastore.transaction(commit=True) as c:
            for row in rows:
                c.execute(
                    "INSERT INTO case_counts (case_id, office_id, events, last_seq)"
                    " VALUES (?, ?, 1, ?) ON CONFLICT (case_id) DO UPDATE SET"
                    " office_id = excluded.office_id, events = case_counts.events + 1,"
                    " last_seq = excluded.last_seq",
                    row,
                )
            self._insert_tracking(c, tracking)

    def counted(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT COALESCE(SUM(events), 0) FROM case_counts")
            return int(c.fetchone()[0])


class CaseCounts(Projection[CaseCountsView]):
    """Buffers events and writes them as one transaction per ``batch_size``."""

    name = "case_counts"

    def __init__(self, view: CaseCountsView, batch_size: int) -> None:
        super().__init__(view)
        self.batch_size = batch_size
        self.rows: list[tuple[str, str, int]] = []

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        raise TypeError(f"{type(domain_event).__name__} is not a Doorstroom event")

    @process_event.register
    def _(self, domain_event: RecordedEvent, tracking: Tracking) -> None:
        meta = domain_event.meta
        self.rows.append((str(meta.case_id), meta.office_id, domain_event.seq))
        if len(self.rows) >= self.batch_size:
            self.flush(tracking)

    def flush(self, tracking: Tracking) -> None:
        if self.rows:
            self.view.count(self.rows, tracking)
            self.rows = []


async def run(
    nc: NATS, stream: str, subject_filter: str, registry: EventRegistry, path: Path, batch: int
) -> dict[str, float]:
    """Read, decode and project the whole stream; seconds and the rate."""
    datastore = SQLiteDatastore(str(path))
    try:
        view = CaseCountsView(datastore)
        view.create_table()
        projection = CaseCounts(view, batch)
        events, last = 0, 0
        started = time.perf_counter()
        async for raws in read_batches(nc, stream, subject_filter, batch=batch):
            for raw in raws:
                rec = decode(raw.data, registry, seq=raw.seq)
                projection.process_event(rec, Tracking(APPLICATION, raw.seq))
                last = raw.seq
            events += len(raws)
        projection.flush(Tracking(APPLICATION, last))
        seconds = time.perf_counter() - started
        if view.counted() != events or view.max_tracking_id(APPLICATION) != last:
            raise RuntimeError("the eventsourcing view did not count every event once")
        return {
            "events": events,
            "seconds": round(seconds, 2),
            "events_per_s": round(events / seconds),
        }
    finally:
        datastore.close()
