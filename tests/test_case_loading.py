"""Loading a case reads only what was appended since the cached state or the snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from events.codec import RecordedEvent
from services.cases import CaseRepository
from services.embedded import NatsServer
from services.jsread import RawMessage
from services.settings import Settings
from services.store import ConcurrencyError, EventStore
from services.stream import snapshot_bucket
from tests.support.sample_events import SAMPLE_REGISTRY, noted
from tests.support.stack import store_on


class SumFold:
    """Sum of ``n`` over the case's events and their count."""

    name = "test-sum_v1"

    def initial(self, case_id: UUID) -> dict[str, int]:
        return {"sum": 0, "count": 0}

    def evolve(self, state: dict[str, int], event: RecordedEvent) -> dict[str, int]:
        return {"sum": state["sum"] + event.event.n, "count": state["count"] + 1}  # type: ignore[attr-defined]

    def dump(self, state: dict[str, int]) -> Any:
        return state

    def restore(self, data: Any) -> dict[str, int]:
        return dict(data)


class CountingStore(EventStore):
    """Records the ``after_seq`` of every tail read, and every filtered scan."""

    reads: list[int]
    scans: int = 0

    async def read_tail(
        self, case_id: UUID, last: RawMessage, after_seq: int
    ) -> list[RecordedEvent]:
        self.reads.append(after_seq)
        return await super().read_tail(case_id, last, after_seq)

    async def read_case(self, case_id: UUID, **kw: Any) -> list[RecordedEvent]:
        self.scans += 1
        return await super().read_case(case_id, **kw)


async def test_load_reads_only_the_tail_after_cache_or_snapshot(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        store.__class__ = CountingStore
        store.reads = []  # type: ignore[attr-defined]
        kv = await snapshot_bucket(store.js, Settings(stream=store.stream))
        repo = CaseRepository(store, SumFold(), kv, snapshot_every=10)
        case = uuid4()
        loaded = await repo.load(case)
        for n in range(1, 26):
            await repo.append(loaded, [noted(case, n)])
            loaded = await repo.load(case)
        assert loaded.state == {"sum": 325, "count": 25}
        assert loaded.head.version == 25
        # Appends through the repository keep the cache in step: no case was read.
        assert store.reads == []  # type: ignore[attr-defined]

        # Another process appends 3 events; this one reads only those.
        other = await store.append(loaded.head, [noted(case, 100)])
        other = await store.append(other.head, [noted(case, 100), noted(case, 100)])
        loaded = await repo.load(case)
        assert store.reads == [loaded.head.last_seq - 3]  # type: ignore[attr-defined]
        assert loaded.state == {"sum": 625, "count": 28}

        # A fresh process starts from the snapshot (taken at version 20) and reads the tail.
        fresh = CaseRepository(store, SumFold(), kv, snapshot_every=10)
        store.reads = []  # type: ignore[attr-defined]
        again = await fresh.load(case)
        assert again.state == loaded.state
        assert again.head == loaded.head
        (after_seq,) = store.reads  # type: ignore[attr-defined]
        assert after_seq > 0

        # A stale loaded state loses the race and the cache is dropped.
        stale = again
        await fresh.append(again, [noted(case, 1)])
        with pytest.raises(ConcurrencyError):
            await fresh.append(stale, [noted(case, 1)])
        final = await fresh.load(case)
        assert final.state == {"sum": 626, "count": 29}
        # Every tail was found by following the stored links, never by a filtered scan.
        assert store.scans == 0  # type: ignore[attr-defined]
