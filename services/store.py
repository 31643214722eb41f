"""The event store on JetStream: optimistic concurrency per case, idempotent atomic appends.

- Each case's events carry ``case_version`` 1..n and a hash chain (see ``events.codec``).
- A write names the head it decided on; the server refuses it if the case moved on
  (``Nats-Expected-Last-Subject-Sequence`` over the case's subject filter).
- ``Nats-Msg-Id`` is the event id: a retry inside the duplicate window is a no-op, and a retry
  after it (or on a cluster, or of a batch) is recognised by reading the case tail.
- The events of one command go in one atomic batch (ADR-50): all stored or none.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Container, Sequence
from dataclasses import dataclass, replace
from typing import Final
from uuid import UUID, uuid4

import orjson
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.js.errors import APIError

from events.base import DomainEvent
from events.codec import GENESIS, Encoded, RecordedEvent, Sealer, decode, encode
from events.envelope import EventMeta
from events.registry import EventRegistry
from events.subjects import Subjects
from services.jsread import RawMessage, last_message, message_at, read_filtered
from services.natsproto import Requester, publish_many
from services.offices import UnknownOfficeError

WRONG_LAST_SEQUENCE: Final = frozenset({10071, 10164})
BATCH_DUPLICATE_MSG_ID: Final = 10201
MAX_BATCH: Final = 1000
PUBLISH_TIMEOUT_S: Final = 10.0
BATCHES_IN_FLIGHT: Final = 3
WALK_LIMIT: Final = 64


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
    case_filter: str


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
        offices: Container[str] | None = None,
    ) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream(timeout=PUBLISH_TIMEOUT_S)
        self.stream = stream
        self.subjects = subjects
        self.registry = registry
        self.sealer = sealer
        self.offices = offices
        self._requests = Requester(nc)

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
        if self.offices is not None and office not in self.offices:
            raise UnknownOfficeError(office)
        case = str(head.case_id)
        subjects = tuple(self.subjects.event(office, case, e.event_name) for e in encoded)
        return _Prepared(head, tuple(encoded), subjects, office, self.subjects.case(case))

    def _headers(self, prepared: _Prepared, index: int) -> dict[str, str]:
        headers = {"Nats-Msg-Id": prepared.encoded[index].event_id_text}
        if index == 0:
            headers["Nats-Expected-Last-Subject-Sequence"] = str(prepared.head.last_seq)
            headers["Nats-Expected-Last-Subject-Sequence-Subject"] = prepared.case_filter
        return headers

    async def append(self, head: CaseHead, drafts: Sequence[Draft]) -> AppendResult:
        """Append the events of one command atomically, expecting the case at ``head``."""
        return await self._append(self.prepare(head, drafts))

    async def append_many(
        self, items: Sequence[tuple[CaseHead, Sequence[Draft]]]
    ) -> list[AppendResult | ConcurrencyError]:
        """Bulk append: many commands, each of another case, in atomic batches of <= 1000 events.

        Up to ``BATCHES_IN_FLIGHT`` batches are on their way at once, so encoding the next
        batch overlaps the server committing the previous one. A batch that the server
        refuses (a stale head in any of its cases) is retried command by command, so each
        command gets its own result or ``ConcurrencyError``.
        """
        cases = [head.case_id for head, _ in items]
        if len(set(cases)) != len(cases):
            raise AppendError("append_many takes one command per case; merge a case's drafts")
        results: list[AppendResult | ConcurrencyError] = []
        in_flight: deque[tuple[list[_Prepared], asyncio.Future[Msg]]] = deque()

        async def settle() -> None:
            chunk, commit = in_flight.popleft()
            try:
                seqs = _batch_seqs(await commit)
            except APIError as exc:
                if not _is_conflict(exc):
                    raise
                results.extend([await self._append_or_conflict(p) for p in chunk])
                return
            offset = 0
            for p in chunk:
                n = len(p.encoded)
                results.append(self._result(p, seqs[offset : offset + n]))
                offset += n

        try:
            for group in _chunks(items):
                chunk = [self.prepare(head, drafts) for head, drafts in group]
                in_flight.append((chunk, await self._send_batch(chunk)))
                # Let the flusher hand this batch to the socket before encoding the next.
                await asyncio.sleep(0)
                if len(in_flight) >= BATCHES_IN_FLIGHT:
                    await settle()
            while in_flight:
                await settle()
        finally:
            for _, task in in_flight:
                task.cancel()
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
        reply = await self._requests.request(
            prepared.subjects[0],
            self._headers(prepared, 0),
            prepared.encoded[0].data,
            PUBLISH_TIMEOUT_S,
        )
        body = orjson.loads(reply.data)
        if "error" in body:
            raise APIError.from_error(body["error"])
        return PubAck.from_response(body)

    async def _publish_batch(self, chunk: Sequence[_Prepared]) -> tuple[int, ...]:
        return _batch_seqs(await (await self._send_batch(chunk)))

    async def _send_batch(self, chunk: Sequence[_Prepared]) -> asyncio.Future[Msg]:
        """Send one ADR-50 atomic batch; the returned task yields the commit's reply.

        All messages but the last go out as plain publishes; the last one carries
        ``Nats-Batch-Commit`` and gets the PubAck (or the error that voids the batch).
        """
        messages = [
            (p.subjects[i], p.encoded[i].data, self._headers(p, i))
            for p in chunk
            for i in range(len(p.encoded))
        ]
        batch_id = uuid4().hex
        count = len(messages)
        await publish_many(
            self.nc,
            (
                (subject, {**own, "Nats-Batch-Id": batch_id, "Nats-Batch-Sequence": str(n)}, data)
                for n, (subject, data, own) in enumerate(messages[:-1], start=1)
            ),
        )
        subject, data, own_headers = messages[-1]
        headers = {
            **own_headers,
            "Nats-Batch-Id": batch_id,
            "Nats-Batch-Sequence": str(count),
            "Nats-Batch-Commit": "1",
        }
        return await self._requests.send(subject, headers, data, PUBLISH_TIMEOUT_S)

    async def _resolve_duplicate(self, prepared: _Prepared) -> AppendResult:
        """After a refusal or a duplicate ack: are our events already stored right after head?

        A retry after a lost ack finds its own events at the expected position and reports
        success without storing anything; anything else there is a real conflict.
        """
        ids = [e.event_id_text for e in prepared.encoded]
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

    async def walk_back(
        self, last: RawMessage, *, stop_after: int, limit: int = WALK_LIMIT
    ) -> list[RawMessage] | None:
        """The case's messages after ``stop_after`` up to ``last``, oldest first, found by
        following each command's stored expected-sequence header backwards.

        Every command's first message names the case's previous stream sequence; the other
        messages of a command directly follow it (atomic batch). A few direct gets by
        sequence replace a filtered scan through everything stored since. Returns None
        when the links do not add up (then the caller scans).
        """
        case = self.subjects.parse_event(last.subject)[1]
        found = [last]
        current = last
        while True:
            prev = current.expected_last_subject_seq
            if prev is None:
                prev = current.seq - 1
            if prev <= stop_after:
                return found[::-1] if prev == stop_after else None
            if len(found) >= limit:
                return None
            msg = await message_at(self.nc, self.stream, prev)
            if msg is None or self.subjects.parse_event(msg.subject)[1] != case:
                return None
            found.append(msg)
            current = msg

    async def read_tail(
        self, case_id: UUID, last: RawMessage, after_seq: int
    ) -> list[RecordedEvent]:
        """Decoded events of the case after ``after_seq`` up to ``last``, in order."""
        walked = await self.walk_back(last, stop_after=after_seq)
        if walked is None:
            return await self.read_case(case_id, after_seq=after_seq, up_to_seq=last.seq)
        return [self.decode(raw, reveal=False) for raw in walked]

    async def last_seq(self) -> int:
        info = await self.js.stream_info(self.stream)
        return int(info.state.last_seq)


def _is_conflict(exc: APIError) -> bool:
    """A stale expected sequence (single server or cluster) or a batch re-sending stored ids."""
    return exc.err_code in WRONG_LAST_SEQUENCE or exc.err_code == BATCH_DUPLICATE_MSG_ID


def _batch_seqs(reply: Msg) -> tuple[int, ...]:
    """The stream sequences of a committed batch, from the commit's PubAck."""
    body = orjson.loads(reply.data) if reply.data else {}
    if "error" in body:
        raise APIError.from_error(body["error"])
    last, count = int(body["seq"]), int(body["count"])
    return tuple(range(last - count + 1, last + 1))


Item = tuple[CaseHead, Sequence[Draft]]


def _chunks(items: Sequence[Item]) -> list[list[Item]]:
    """Group commands into batches of at most MAX_BATCH messages, never splitting one."""
    chunks: list[list[Item]] = []
    current: list[Item] = []
    size = 0
    for p in items:
        n = len(p[1])
        if current and size + n > MAX_BATCH:
            chunks.append(current)
            current, size = [], 0
        current.append(p)
        size += n
    if current:
        chunks.append(current)
    return chunks
