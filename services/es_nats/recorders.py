"""Aggregate, application, tracking and process recorders on JetStream streams."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    DataError,
    IntegrityError,
    Notification,
    OperationalError,
    ProcessRecorder,
    Recorder,
    StoredEvent,
    Subscription,
    Tracking,
    TrackingRecorder,
)
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

from services.es_nats.codec import (
    TRACKING_HEADER,
    VERSION_HEADER,
    StreamSubjects,
    event_headers,
    to_notification,
    to_stored_event,
)
from services.es_nats.datastore import (
    EXPECTED_LAST_SUBJECT_SEQ,
    MAX_BATCH,
    MSG_ID,
    LastKnown,
    NatsDatastore,
    OutMsg,
    PublishConflictError,
    PublishTimeoutError,
    RawMsg,
)
from services.es_nats.subscription import NatsSubscription

#: How often one insert re-reads the subjects and tries again after a refused write whose
#: conflict turned out not to be a duplicate (for example a stale cached sequence).
MAX_WRITE_ROUNDS = 4


@dataclass(frozen=True)
class StreamOptions:
    """Settings of the streams a factory provisions (see the package docstring)."""

    subject_prefix: str = "es"
    replicas: int = 1
    duplicate_window: float = 300.0


class NatsRecorder(Recorder):
    """One JetStream stream, its subjects, and the atomic, conflict-checked write.

    ``self.last_known`` remembers the (sequence, version) of the last message seen on each
    subject; it only serves as the expected sequence of the next write (the server
    refuses a stale one, after which the truth is read from the stream leader).
    """

    def __init__(
        self,
        datastore: NatsDatastore,
        stream_name: str,
        options: StreamOptions | None = None,
    ) -> None:
        self.datastore = datastore
        self.stream_name = stream_name
        self.options = options or StreamOptions()
        self.subjects = StreamSubjects(self.options.subject_prefix, stream_name)
        self.last_known = LastKnown()
        self.max_written_seq = 0

    # -- stream ---------------------------------------------------------------------------

    def stream_config(self) -> StreamConfig:
        return self._event_stream_config()

    def _event_stream_config(self) -> StreamConfig:
        return StreamConfig(
            name=self.stream_name,
            description="eventsourcing stored events",
            subjects=[self.subjects.all],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.NEW,
            max_msgs=-1,
            max_bytes=-1,
            max_age=0,
            max_msgs_per_subject=-1,
            num_replicas=self.options.replicas,
            duplicate_window=self.options.duplicate_window,
            allow_direct=True,
            allow_atomic=True,
            deny_delete=True,
            deny_purge=True,
        )

    def create_stream(self) -> None:
        """Create the stream if it does not exist (and check an existing one)."""
        self.datastore.run(self.datastore.ensure_stream(self.stream_config()))

    # -- reading helpers ------------------------------------------------------------------

    def _stored_event(self, msg: RawMsg) -> StoredEvent:
        return to_stored_event(self._notification(msg))

    def _notification(self, msg: RawMsg) -> Notification:
        return to_notification(self.subjects, msg.seq, msg.subject, msg.headers, msg.data)

    @staticmethod
    def _value(msg: RawMsg) -> int:
        """Originator version of an event, notification id of a tracking record."""
        raw = msg.headers.get(TRACKING_HEADER) or msg.headers.get(VERSION_HEADER)
        if raw is None:
            raise DataError(f"Message {msg.seq} on {msg.subject!r} has no version")
        return int(raw)

    # -- writing --------------------------------------------------------------------------

    def _insert_sync(
        self, stored_events: Sequence[StoredEvent], tracking: Tracking | None
    ) -> list[int]:
        return self.datastore.run(self._insert(stored_events, tracking))

    async def _insert(self, events: Sequence[StoredEvent], tracking: Tracking | None) -> list[int]:
        """Write events (and a tracking record) atomically; return the events' sequences.

        Each subject's first message carries ``Nats-Expected-Last-Subject-Sequence``; the
        value to beat (first new version, tracking id) is checked against the last
        known message first, and again against the leader's after a refused write.
        """
        if not events and tracking is None:
            return []
        checks: dict[str, int] = {}
        previous: dict[str, int] = {}
        for event in events:
            subject = self.subjects.event(event.originator_id)
            if subject in previous and event.originator_version <= previous[subject]:
                raise IntegrityError(
                    f"Versions of {event.originator_id!r} in one insert are not increasing: "
                    f"{event.originator_version} after {previous[subject]}"
                )
            checks.setdefault(subject, event.originator_version)
            previous[subject] = event.originator_version
        if tracking is not None:
            checks[self.subjects.tracking(tracking.application_name)] = tracking.notification_id
        if len(events) + (tracking is not None) > MAX_BATCH:
            raise DataError(f"At most {MAX_BATCH} messages can be written atomically")

        nonce = uuid4().hex
        for _ in range(MAX_WRITE_ROUNDS):
            expected: dict[str, int] = {}
            for subject, value in checks.items():
                seq, last_value = self.last_known.get(subject)
                if last_value is not None and value <= last_value:
                    raise IntegrityError(
                        f"{subject!r} already has {last_value} (stream sequence {seq}), "
                        f"cannot record {value}"
                    )
                expected[subject] = seq
            msgs, values = self._messages(events, tracking, expected, nonce)
            try:
                seqs = await self._write(msgs)
            except PublishConflictError:
                await self._refresh(checks)
                continue
            except PublishTimeoutError:
                raise OperationalError(
                    f"No acknowledgement from stream {self.stream_name!r} (twice): "
                    "the events may or may not have been recorded"
                ) from None
            for msg, seq, value in zip(msgs, seqs, values, strict=True):
                self.last_known.raise_to(msg.subject, seq, value)
            if events:
                self.max_written_seq = max(self.max_written_seq, seqs[len(events) - 1])
            return seqs[: len(events)]
        raise IntegrityError(
            f"Writes to stream {self.stream_name!r} kept conflicting with concurrent writes"
        )

    def _messages(
        self,
        events: Sequence[StoredEvent],
        tracking: Tracking | None,
        expected: dict[str, int],
        nonce: str,
    ) -> tuple[list[OutMsg], list[int]]:
        msgs: list[OutMsg] = []
        values: list[int] = []
        seen: set[str] = set()
        for index, event in enumerate(events):
            subject = self.subjects.event(event.originator_id)
            headers = event_headers(event)
            headers[MSG_ID] = f"{nonce}-{index}"
            if subject not in seen:
                seen.add(subject)
                headers[EXPECTED_LAST_SUBJECT_SEQ] = str(expected[subject])
            msgs.append(OutMsg(subject, event.state, headers))
            values.append(event.originator_version)
        if tracking is not None:
            subject = self.subjects.tracking(tracking.application_name)
            number = str(tracking.notification_id)
            headers = {
                TRACKING_HEADER: number,
                MSG_ID: f"{nonce}-t",
                EXPECTED_LAST_SUBJECT_SEQ: str(expected[subject]),
            }
            msgs.append(OutMsg(subject, number.encode(), headers))
            values.append(tracking.notification_id)
        return msgs, values

    async def _write(self, msgs: list[OutMsg]) -> list[int]:
        """Publish; after a lost acknowledgement send the same messages (same message ids)
        once more and recognise our own earlier write instead of reporting a conflict."""
        count = len(msgs)
        try:
            last, _duplicate = await self.datastore.publish(msgs)
        except PublishTimeoutError:
            try:
                last, _duplicate = await self.datastore.publish(msgs)
            except PublishConflictError:
                first = await self._committed_first_seq(msgs[0])
                if first is None:
                    raise
                last = first + count - 1
        return list(range(last - count + 1, last + 1))

    async def _committed_first_seq(self, first: OutMsg) -> int | None:
        after = int(first.headers[EXPECTED_LAST_SUBJECT_SEQ])
        msg = await self.datastore.leader_next(self.stream_name, after + 1, first.subject)
        if msg is not None and msg.headers.get(MSG_ID) == first.headers[MSG_ID]:
            return msg.seq
        return None

    async def _refresh(self, subjects: Iterable[str]) -> None:
        """Replace what is known about ``subjects`` with the stream leader's view."""
        subject_list = list(subjects)
        lasts = await asyncio.gather(
            *(self.datastore.leader_last(self.stream_name, s) for s in subject_list)
        )
        for subject, msg in zip(subject_list, lasts, strict=True):
            if msg is None:
                self.last_known.forget(subject)
            else:
                self.last_known.set(subject, msg.seq, self._value(msg))


class NatsAggregateRecorder(NatsRecorder, AggregateRecorder):
    """Stored events of one application (or its snapshots) in one stream."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        self._insert_sync(stored_events, None)
        return None

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        return self.datastore.run(self._select_events(originator_id, gt, lte, desc, limit))

    async def _select_events(
        self,
        originator_id: UUID | str,
        gt: int | None,
        lte: int | None,
        desc: bool,
        limit: int | None,
    ) -> list[StoredEvent]:
        if limit is not None and limit <= 0:
            return []
        subject = self.subjects.event(originator_id)
        known_seq, known_version = self.last_known.get(subject)

        if desc and limit == 1 and lte is None:  # the last one (e.g. latest snapshot)
            msg = await self.datastore.direct_last(self.stream_name, subject)
            if (msg.seq if msg else 0) < known_seq:
                msg = await self.datastore.leader_last(self.stream_name, subject)
            if msg is None:
                return []
            event = self._stored_event(msg)
            self.last_known.raise_to(subject, msg.seq, event.originator_version)
            return [event] if gt is None or event.originator_version > gt else []

        # Versions increase with the stream sequence, so a known (seq, version) at or
        # below ``gt`` lets the read start right after it.
        start = 1
        if gt is not None and known_version is not None and known_version <= gt:
            start = known_seq + 1
        events: list[StoredEvent] = []

        def visit(msg: RawMsg) -> bool:
            event = self._stored_event(msg)
            version = event.originator_version
            self.last_known.raise_to(subject, msg.seq, version)
            if gt is not None and version <= gt:
                return True
            if lte is not None and version > lte:
                return False
            events.append(event)
            return desc or limit is None or len(events) < limit

        page = MAX_BATCH if desc or limit is None else limit
        await self.datastore.scan(
            self.stream_name, subject, start, visit, page=page, min_last_seq=known_seq
        )
        if desc:
            events.reverse()
            if limit is not None:
                del events[limit:]
        return events


class NatsApplicationRecorder(NatsAggregateRecorder, ApplicationRecorder):
    """Stored events whose notification ids are their stream sequence numbers."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        return self._insert_sync(stored_events, None)

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        first = 1 if start is None else start + (0 if inclusive_of_start else 1)
        return self.datastore.run(self._select_notifications(first, limit, stop, topics))

    async def _select_notifications(
        self, first: int, limit: int, stop: int | None, topics: Sequence[str]
    ) -> list[Notification]:
        first = max(first, 1)
        if limit <= 0 or (stop is not None and stop < first):
            return []
        wanted = frozenset(topics)
        results: list[Notification] = []

        def visit(msg: RawMsg) -> bool:
            if stop is not None and msg.seq > stop:
                return False
            notification = self._notification(msg)
            if not wanted or notification.topic in wanted:
                results.append(notification)
            return len(results) < limit

        page = MAX_BATCH if wanted else limit
        if stop is not None:
            page = min(page, stop - first + 1)
        min_last = self.max_written_seq if stop is None else min(stop, self.max_written_seq)
        await self.datastore.scan(
            self.stream_name, self.subjects.events, first, visit, page=page, min_last_seq=min_last
        )
        return results

    def max_notification_id(self) -> int | None:
        msg = self.datastore.run(self.datastore.leader_last(self.stream_name, self.subjects.events))
        return None if msg is None else msg.seq

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return NatsSubscription(recorder=self, gt=gt, topics=topics)


class NatsTrackingRecorder(NatsRecorder, TrackingRecorder):
    """Tracking records in a stream of their own, one subject per upstream application
    (``<prefix>.<stream>._tracking.<application>``), keeping only the last message of
    each subject; a new record must beat the last one (expected-sequence checked)."""

    def stream_config(self) -> StreamConfig:
        config = self._event_stream_config()
        config.description = "eventsourcing tracking records"
        config.discard = DiscardPolicy.OLD
        config.max_msgs_per_subject = 1
        return config

    def insert_tracking(self, tracking: Tracking) -> None:
        self._insert_sync((), tracking)

    def max_tracking_id(self, application_name: str) -> int | None:
        return self.datastore.run(self._max_tracking_id(application_name))

    async def _max_tracking_id(self, application_name: str) -> int | None:
        subject = self.subjects.tracking(application_name)
        msg = await self.datastore.leader_last(self.stream_name, subject)
        if msg is None:
            return None
        value = self._value(msg)
        self.last_known.raise_to(subject, msg.seq, value)
        return value


class NatsProcessRecorder(NatsTrackingRecorder, NatsApplicationRecorder, ProcessRecorder):
    """Events and tracking records in the application's stream, written together in
    one atomic batch (the tracking record last). Tracking records take stream sequence
    numbers too, so notification ids of a process application have gaps."""

    def stream_config(self) -> StreamConfig:
        return self._event_stream_config()

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        tracking: Tracking | None = kwargs.get("tracking")
        return self._insert_sync(stored_events, tracking)
