"""The event store on JetStream: optimistic concurrency per case, idempotent atomic appends.

- Each case's events carry ``case_version`` 1..n and a hash chain (see ``events.codec``).
- A write names the head it decided on; the server refuses it if the case moved on
  (``Nats-Expected-Last-Subject-Sequence`` over the case's subject filter).
- ``Nats-Msg-Id`` is the event id: a retry inside the duplicate window is a no-op, and a retry
  after it (or on a cluster, or of a batch) is recognised by reading the case tail.
- The events of one command go in one atomic batch (ADR-50): all stored or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final
from uuid import UUID, uuid4

import orjson
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.js.errors import APIError

from events.base import DomainEvent
from events.codec import GENESIS, Encoded, RecordedEvent, Sealer, decode, encode
from events.envelope import EventMeta
from events.registry import EventRegistry
from events.subjects import Subjects
from services.jsread import RawMessage, last_message, read_filtered

WRONG_LAST_SEQUENCE: Final = frozenset({10071, 10164})
BATCH_DUPLICATE_MSG_ID: Final = 10201
MAX_BATCH: Final = 1000
PUBLISH_TIMEOUT_S: Final = 10.0


class ConcurrencyError(Exception):
    """Another writer appended to the case after the head this write decided on."""

    def __init__(self, case_id: UUID, expected_version: int, expected_seq: int) -> None:
        super().__init__(
            f"case {case_id} changed after version {expected_version} "
            f"(stream sequence {expected_seq}); reload the case and decide again"
        )
        self.case_id = case_id
        self.expected_version = expected_version
        self.expected_seq = expected_seq


class AppendError(ValueError):
    """Drafts that cannot form one append (wrong case, duplicate ids, too many)."""


@dataclass(frozen=True, slots=True)
class CaseHead:
    """Where a case stands on the stream: what an append must name as expected."""

    case_id: UUID
    version: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    office_id: str | None = None
    first_seq: int = 0

    def after(self, seqs: Sequence[int], office_id: str, last_hash: str) -> CaseHead:
        return CaseHead(
            case_id=self.case_id,
            version=self.version + len(seqs),
            last_seq=seqs[-1],
            last_hash=last_hash,
            office_id=office_id,
            first_seq=self.first_seq or seqs[0],
        )


@dataclass(frozen=True, slots=True)
class Draft:
    """One event to append: its envelope and payload."""

    meta: EventMeta
    event: DomainEvent


@dataclass(frozen=True, slots=True)
class AppendResult:
    head: CaseHead
    seqs: tuple[int, ...]
    duplicate: bool = False

    @property
    def last_seq(self) -> int:
        return self.seqs[-1]


@dataclass(frozen=True, slots=True)
class _Prepared:
    head: CaseHead
    encoded: tuple[Encoded, ...]
    subjects: tuple[str, ...]
    office_id: str


class EventStore:
    """Append and read case events on one JetStream stream."""

    def __init__(
        self,
        nc: NATS,
        *,
        stream: str,
        subjects: Subjects,
        registry: EventRegistry,
        sealer: Sealer | None,
    ) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream(timeout=PUBLISH_TIMEOUT_S)
        self.stream = stream
        self.subjects = subjects
        self.registry = registry
        self.sealer = sealer

    # --- writing -----------------------------------------------------------------------

    def prepare(self, head: CaseHead, drafts: Sequence[Draft]) -> _Prepared:
        """Encode drafts on top of ``head``: case versions and hash chain, sealed fields."""
        if not drafts:
            raise AppendError("nothing to append")
        if len(drafts) > MAX_BATCH:
            raise AppendError(f"{len(drafts)} events in one command; at most {MAX_BATCH}")
        ids = [d.meta.event_id for d in drafts]
        if len(set(ids)) != len(ids):
            raise AppendError("two events of one append share an event id")
        offices = {d.meta.office_id for d in drafts}
        if len(offices) != 1:
            raise AppendError(f"one append writes for one office, got {sorted(offices)}")
        encoded: list[Encoded] = []
        prev = head.last_hash
        for i, draft in enumerate(drafts, start=1):
            if draft.meta.case_id != head.case_id:
                raise AppendError(
                    f"event {draft.meta.event_id} is for case {draft.meta.case_id}, "
                    f"not {head.case_id}"
                )
            enc = encode(
                draft.meta,
                draft.event,
                case_version=head.version + i,
                prev_hash=prev,
                sealer=self.sealer,
            )
            encoded.append(enc)
            prev = enc.hash
        office = offices.pop()
        subjects = tuple(self.subjects.event(office, head.case_id, e.event_name) for e in encoded)
        return _Prepared(head, tuple(encoded), subjects, office)

    def _headers(self, prepared: _Prepared, index: int) -> dict[str, str]:
        headers = {"Nats-Msg-Id": str(prepared.encoded[index].event_id)}
        if index == 0:
            headers["Nats-Expected-Last-Subject-Sequence"] = str(prepared.head.last_seq)
            headers["Nats-Expected-Last-Subject-Sequence-Subject"] = self.subjects.case(
                prepared.head.case_id
            )
        return headers

    async def append(self, head: CaseHead, drafts: Sequence[Draft]) -> AppendResult:
        """Append the events of one command atomically, expecting the case at ``head``."""
        return await self._append(self.prepare(head, drafts))

    async def append_many(
        self, items: Sequence[tuple[CaseHead, Sequence[Draft]]]
    ) -> list[AppendResult | ConcurrencyError]:
        """Bulk append: many commands of many cases in atomic batches of up to 1000 events.

        A batch that the server refuses (a stale head in any of its cases) is retried command
        by command, so each command gets its own result or ``ConcurrencyError``.
        """
        prepared = [self.prepare(head, drafts) for head, drafts in items]
        results: list[AppendResult | ConcurrencyError] = []
        for chunk in _chunks(prepared):
            seqs: tuple[int, ...] | None = None
            if len({p.head.case_id for p in chunk}) == len(chunk):
                try:
                    seqs = await self._publish_batch(chunk)
                except APIError as exc:
                    if not _is_conflict(exc):
                        raise
            if seqs is None:
                results.extend([await self._append_or_conflict(p) for p in chunk])
                continue
            offset = 0
            for p in chunk:
                n = len(p.encoded)
                results.append(self._result(p, seqs[offset : offset + n]))
                offset += n
        return results

    async def _append_or_conflict(self, prepared: _Prepared) -> AppendResult | ConcurrencyError:
        try:
            return await self._append(prepared)
        except ConcurrencyError as conflict:
            return conflict

    async def _append(self, prepared: _Prepared) -> AppendResult:
        try:
            if len(prepared.encoded) == 1:
                ack = await self._publish_one(prepared)
                if ack.duplicate:
                    return await self._resolve_duplicate(prepared)
                seqs: tuple[int, ...] = (ack.seq,)
            else:
                seqs = await self._publish_batch([prepared])
        except APIError as exc:
            if _is_conflict(exc):
                return await self._resolve_duplicate(prepared)
            raise
        return self._result(prepared, seqs)

    def _result(self, prepared: _Prepared, seqs: Sequence[int]) -> AppendResult:
        head = prepared.head.after(seqs, prepared.office_id, prepared.encoded[-1].hash)
        return AppendResult(head=head, seqs=tuple(seqs))

    async def _publish_one(self, prepared: _Prepared) -> PubAck:
        return await self.js.publish(
            prepared.subjects[0],
            prepared.encoded[0].data,
            headers=self._headers(prepared, 0),
        )

    async def _publish_batch(self, chunk: Sequence[_Prepared]) -> tuple[int, ...]:
        """One ADR-50 atomic batch: first as request, middle as publishes, last commits."""
        messages = [
            (p.subjects[i], p.encoded[i].data, self._headers(p, i))
            for p in chunk
            for i in range(len(p.encoded))
        ]
        batch_id = uuid4().hex
        count = len(messages)
        for n, (subject, data, own_headers) in enumerate(messages, start=1):
            headers = {**own_headers, "Nats-Batch-Id": batch_id, "Nats-Batch-Sequence": str(n)}
            if n == count:
                headers["Nats-Batch-Commit"] = "1"
            if n in (1, count):
                reply = await self.nc.request(
                    subject, data, headers=headers, timeout=PUBLISH_TIMEOUT_S
                )
                if reply.data:
                    body = orjson.loads(reply.data)
                    if "error" in body:
                        raise APIError.from_error(body["error"])
                    if n == count:
                        last = int(body["seq"])
                        return tuple(range(last - count + 1, last + 1))
            else:
                await self.nc.publish(subject, data, headers=headers)
        raise AssertionError("unreachable: the last message commits the batch")

    async def _resolve_duplicate(self, prepared: _Prepared) -> AppendResult:
        """After a refusal or a duplicate ack: are our events already stored right after head?

        A retry after a lost ack finds its own events at the expected position and reports
        success without storing anything; anything else there is a real conflict.
        """
        ids = [str(e.event_id) for e in prepared.encoded]
        found: list[RawMessage] = []
        async for raw in read_filtered(
            self.nc,
            self.stream,
            self.subjects.case(prepared.head.case_id),
            from_seq=prepared.head.last_seq + 1,
            batch=len(ids),
        ):
            found.append(raw)
            if len(found) == len(ids):
                break
        if [m.msg_id for m in found] == ids:
            result = self._result(prepared, tuple(m.seq for m in found))
            return replace(result, duplicate=True)
        raise ConcurrencyError(prepared.head.case_id, prepared.head.version, prepared.head.last_seq)

    # --- reading -----------------------------------------------------------------------

    async def head(self, case_id: UUID) -> CaseHead:
        """The case's head from its last event (one direct get); version 0 if it has none."""
        last = await last_message(self.nc, self.stream, self.subjects.case(case_id))
        if last is None:
            return CaseHead(case_id)
        rec = self.decode(last, reveal=False)
        return CaseHead(
            case_id=case_id,
            version=rec.case_version,
            last_seq=last.seq,
            last_hash=rec.hash,
            office_id=rec.meta.office_id,
        )

    def decode(self, raw: RawMessage, *, reveal: bool) -> RecordedEvent:
        return decode(raw.data, self.registry, seq=raw.seq, sealer=self.sealer, reveal=reveal)

    async def read_case(
        self,
        case_id: UUID,
        *,
        after_seq: int = 0,
        up_to_seq: int | None = None,
        reveal: bool = False,
    ) -> list[RecordedEvent]:
        """The case's events in order (personal fields decrypted with ``reveal``)."""
        return [
            self.decode(raw, reveal=reveal)
            async for raw in read_filtered(
                self.nc,
                self.stream,
                self.subjects.case(case_id),
                from_seq=after_seq + 1,
                up_to_seq=up_to_seq,
            )
        ]

    async def last_seq(self) -> int:
        info = await self.js.stream_info(self.stream)
        return int(info.state.last_seq)


def _is_conflict(exc: APIError) -> bool:
    """A stale expected sequence (single server or cluster) or a batch re-sending stored ids."""
    return exc.err_code in WRONG_LAST_SEQUENCE or exc.err_code == BATCH_DUPLICATE_MSG_ID


def _chunks(prepared: Sequence[_Prepared]) -> list[list[_Prepared]]:
    """Group commands into batches of at most MAX_BATCH messages, never splitting one."""
    chunks: list[list[_Prepared]] = []
    current: list[_Prepared] = []
    size = 0
    for p in prepared:
        n = len(p.encoded)
        if current and size + n > MAX_BATCH:
            chunks.append(current)
            current, size = [], 0
        current.append(p)
        size += n
    if current:
        chunks.append(current)
    return chunks
