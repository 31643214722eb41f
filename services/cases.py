"""Loading a case without reading its history from the start: state cache, snapshots, tail reads.

``load`` takes the case state from an in-process LRU cache, else from the snapshot bucket,
else from nothing; then one direct get of the case's last message tells whether anything
was appended since, and only that tail is read and folded in.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

import orjson
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from events.codec import RecordedEvent
from services.jsread import last_message
from services.store import AppendResult, CaseHead, Draft, EventStore

S = TypeVar("S")

SNAPSHOT_EVERY = 20
CACHE_SIZE = 50_000


class Fold(Protocol[S]):
    """How a case's state is computed from its events (the domain's evolve)."""

    name: str  # include a version: a changed evolve must not reuse old snapshots

    def initial(self, case_id: UUID) -> S: ...

    def evolve(self, state: S, event: RecordedEvent) -> S: ...

    def dump(self, state: S) -> Any: ...

    def restore(self, data: Any) -> S: ...


@dataclass(frozen=True, slots=True)
class LoadedCase(Generic[S]):
    head: CaseHead
    state: S
    snapshot_version: int = 0


class CaseRepository(Generic[S]):
    """Load-decide-append support for one fold over the event store."""

    def __init__(
        self,
        store: EventStore,
        fold: Fold[S],
        snapshots: KeyValue | None = None,
        *,
        cache_size: int = CACHE_SIZE,
        snapshot_every: int = SNAPSHOT_EVERY,
    ) -> None:
        self.store = store
        self.fold = fold
        self.snapshots = snapshots
        self.cache_size = cache_size
        self.snapshot_every = snapshot_every
        self._cache: OrderedDict[UUID, LoadedCase[S]] = OrderedDict()

    def _key(self, case_id: UUID) -> str:
        return f"{self.fold.name}.{case_id}"

    def _remember(self, loaded: LoadedCase[S]) -> None:
        self._cache[loaded.head.case_id] = loaded
        self._cache.move_to_end(loaded.head.case_id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def forget(self, case_id: UUID) -> None:
        self._cache.pop(case_id, None)

    def cached(self, case_id: UUID) -> LoadedCase[S] | None:
        """The state this process last knew, without asking NATS whether it is still current.

        Only for writes that fail safely when it is not: an append names the head it decided
        on, so a cache behind another writer ends in ``ConcurrencyError``, never in a stored
        event. Use ``load`` for anything shown to a user or for a refusal.
        """
        known = self._cache.get(case_id)
        if known is not None:
            self._cache.move_to_end(case_id)
        return known

    def empty(self, case_id: UUID) -> LoadedCase[S]:
        """The case before its first event, not asked of NATS: only for writes, which name
        this head (no event at all) and so fail safely when the case exists."""
        return LoadedCase(CaseHead(case_id), self.fold.initial(case_id))

    async def _snapshot(self, case_id: UUID) -> LoadedCase[S] | None:
        if self.snapshots is None:
            return None
        try:
            entry = await self.snapshots.get(self._key(case_id))
        except KeyNotFoundError:
            return None
        if not entry.value:
            return None
        body = orjson.loads(entry.value)
        head = CaseHead(case_id=case_id, **body["head"])
        return LoadedCase(head, self.fold.restore(body["state"]), head.version)

    async def _save_snapshot(self, loaded: LoadedCase[S]) -> LoadedCase[S]:
        if self.snapshots is None:
            return loaded
        h = loaded.head
        body = {
            "head": {
                "version": h.version,
                "last_seq": h.last_seq,
                "last_hash": h.last_hash,
                "office_id": h.office_id,
                "first_seq": h.first_seq,
            },
            "state": self.fold.dump(loaded.state),
        }
        await self.snapshots.put(self._key(h.case_id), orjson.dumps(body))
        return LoadedCase(h, loaded.state, h.version)

    async def load(self, case_id: UUID) -> LoadedCase[S]:
        """The case's current state; reads only what was appended since cache or snapshot."""
        known = self._cache.get(case_id) or await self._snapshot(case_id)
        if known is None:
            known = LoadedCase(CaseHead(case_id), self.fold.initial(case_id))
        last = await last_message(
            self.store.nc, self.store.stream, self.store.subjects.case(case_id)
        )
        if last is None or last.seq == known.head.last_seq:
            self._remember(known)
            return known
        tail = await self.store.read_tail(case_id, last, known.head.last_seq)
        loaded = self._fold_in(known, tail)
        if loaded.head.version - loaded.snapshot_version >= self.snapshot_every:
            loaded = await self._save_snapshot(loaded)
        self._remember(loaded)
        return loaded

    def _fold_in(self, known: LoadedCase[S], events: Sequence[RecordedEvent]) -> LoadedCase[S]:
        state, head = known.state, known.head
        for rec in events:
            state = self.fold.evolve(state, rec)
            head = CaseHead(
                case_id=head.case_id,
                version=rec.case_version,
                last_seq=rec.seq,
                last_hash=rec.hash,
                office_id=rec.meta.office_id,
                first_seq=head.first_seq or rec.seq,
            )
        return LoadedCase(head, state, known.snapshot_version)

    async def append(self, loaded: LoadedCase[S], drafts: Sequence[Draft]) -> AppendResult:
        """Append on top of ``loaded`` and keep the cached state in step (no re-read)."""
        try:
            result = await self.store.append(loaded.head, drafts)
        except Exception:
            self.forget(loaded.head.case_id)
            raise
        recorded = [
            RecordedEvent(
                meta=d.meta,
                event=d.event.model_copy(update=dict.fromkeys(personal)) if personal else d.event,
                stored_type=d.event.stored_type(),
                case_version=loaded.head.version + i,
                prev_hash="",
                hash="",
                seq=seq,
                sealed=bool(personal),
            )
            for i, (d, seq) in enumerate(zip(drafts, result.seqs, strict=True), start=1)
            for personal in (d.event.personal_fields(),)
        ]
        new = LoadedCase(
            result.head, self._fold_in(loaded, recorded).state, loaded.snapshot_version
        )
        await self.keep(new)
        return result

    async def keep(self, loaded: LoadedCase[S]) -> LoadedCase[S]:
        """Remember a state that was appended (also by a bulk write); snapshot it when due."""
        if loaded.head.version - loaded.snapshot_version >= self.snapshot_every:
            loaded = await self._save_snapshot(loaded)
        self._remember(loaded)
        return loaded
