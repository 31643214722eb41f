"""Fast JetStream reads with batch direct get (nats-py has no helper for it)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass

import orjson
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

DIRECT_BATCH = 1000
EXPECTED = "Nats-Expected-Last-Subject-Sequence"
REPLY_TIMEOUT_S = 10.0
CONSUMER_INACTIVE_S = 60.0


@dataclass(frozen=True, slots=True)
class RawMessage:
    seq: int
    subject: str
    msg_id: str | None
    data: bytes
    expected_last_subject_seq: int | None = None


class DirectGetError(RuntimeError):
    pass


def _to_raw(msg: Msg) -> RawMessage:
    headers = msg.headers or {}
    return RawMessage(
        seq=int(headers["Nats-Sequence"]),
        subject=headers["Nats-Subject"],
        msg_id=headers.get("Nats-Msg-Id"),
        data=msg.data,
        expected_last_subject_seq=(int(headers[EXPECTED]) if EXPECTED in headers else None),
    )


async def _direct_batch(
    nc: NATS, stream: str, request: dict[str, object]
) -> tuple[list[RawMessage], int]:
    """One batch direct get: the messages and the number still pending after them."""
    inbox = nc.new_inbox()
    out: list[RawMessage] = []
    finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def on_msg(msg: Msg) -> None:
        headers = msg.headers or {}
        status = headers.get("Status")
        if status is None:
            out.append(_to_raw(msg))
        elif finished.done():
            return
        elif status in ("204", "404"):
            finished.set_result(int(headers.get("Nats-Num-Pending", "0")))
        else:
            finished.set_exception(
                DirectGetError(f"direct get {request}: status {status} {headers}")
            )

    sub = await nc.subscribe(inbox, cb=on_msg, pending_msgs_limit=-1, pending_bytes_limit=-1)
    try:
        await nc.publish(f"$JS.API.DIRECT.GET.{stream}", orjson.dumps(request), reply=inbox)
        pending = await asyncio.wait_for(finished, REPLY_TIMEOUT_S)
        return out, pending
    finally:
        await sub.unsubscribe()


async def read_filtered(
    nc: NATS,
    stream: str,
    subject_filter: str,
    *,
    from_seq: int = 1,
    up_to_seq: int | None = None,
    batch: int = DIRECT_BATCH,
) -> AsyncIterator[RawMessage]:
    """Every message matching ``subject_filter`` from ``from_seq`` on, in stream order."""
    seq = max(from_seq, 1)
    while True:
        request: dict[str, object] = {"seq": seq, "batch": batch, "next_by_subj": subject_filter}
        if up_to_seq is not None:
            if seq > up_to_seq:
                return
            request["up_to_seq"] = up_to_seq
        msgs, pending = await _direct_batch(nc, stream, request)
        for m in msgs:
            yield m
        if not msgs or pending == 0:
            return
        seq = msgs[-1].seq + 1


async def _direct_one(nc: NATS, stream: str, request: dict[str, object]) -> RawMessage | None:
    msg = await nc.request(
        f"$JS.API.DIRECT.GET.{stream}", orjson.dumps(request), timeout=REPLY_TIMEOUT_S
    )
    status = (msg.headers or {}).get("Status")
    if status == "404":
        return None
    if status is not None:
        raise DirectGetError(f"direct get {request}: status {status} {msg.headers}")
    return _to_raw(msg)


async def last_message(nc: NATS, stream: str, subject_filter: str) -> RawMessage | None:
    """The last message matching a (wildcard) subject filter, or None."""
    return await _direct_one(nc, stream, {"last_by_subj": subject_filter})


async def message_at(nc: NATS, stream: str, seq: int) -> RawMessage | None:
    """The message with stream sequence ``seq`` (an O(1) lookup), or None."""
    return await _direct_one(nc, stream, {"seq": seq})


# --- following the stream with a pull consumer driven by hand ---------------------------------

RawHandler = Callable[[bytes, bytes, bytes, bytes | None], None]


class RawReadClient(NATS):
    """A NATS client that hands the messages of chosen subscriptions over unparsed.

    nats-py decodes every header of every message into a dict and builds a ``Msg`` before a
    callback sees it; for a replay that is as costly as decoding the event. A subscription
    made with :meth:`subscribe_raw` gets subject, reply, payload and the raw header block
    instead; every other subscription of the connection behaves exactly as in ``NATS``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._raw_handlers: dict[int, RawHandler] = {}

    async def subscribe_raw(self, subject: str, handler: RawHandler) -> Subscription:
        """Subscribe ``handler`` (a plain function, called on the event loop) to ``subject``."""
        sub = await self.subscribe(
            subject, cb=_never_called, pending_msgs_limit=-1, pending_bytes_limit=-1
        )
        self._raw_handlers[sub._id] = handler
        return sub

    async def unsubscribe_raw(self, sub: Subscription) -> None:
        self._raw_handlers.pop(sub._id, None)
        await sub.unsubscribe()

    async def _process_msg(
        self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes | None
    ) -> None:
        handler = self._raw_handlers.get(sid)
        if handler is None:
            await super()._process_msg(sid, subject, reply, data, headers)  # type: ignore[arg-type]
        else:
            handler(subject, reply, data, headers)


async def _never_called(msg: Msg) -> None:
    """The callback nats-py requires; raw subscriptions never reach it."""


def _raw_status(headers: bytes | None) -> str | None:
    """The inline status of a raw header block (``NATS/1.0 404 No Messages``), or None."""
    if headers and headers[8:9] == b" ":
        return headers[9:12].decode()
    return None


def _raw_header(headers: bytes | None, name: bytes) -> str | None:
    """One header's value from a raw header block, looked up without parsing the rest."""
    if not headers:
        return None
    start = headers.find(b"\r\n" + name + b":")
    if start < 0:
        return None
    start += len(name) + 3
    end = headers.find(b"\r\n", start)
    return headers[start:end].strip().decode()


PULL_BATCH = 1000
PULL_AHEAD = 2


class PullError(RuntimeError):
    pass


def _ack_fields(reply: str) -> tuple[int, int]:
    """(stream sequence, messages pending after it) from a JetStream ack subject.

    ``$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>`` (9 tokens), or
    the form with domain and account hash (12 tokens or more).
    """
    tokens = reply.split(".")
    if len(tokens) == 9:
        return int(tokens[5]), int(tokens[8])
    if len(tokens) >= 12:
        return int(tokens[7]), int(tokens[10])
    raise PullError(f"not a JetStream ack subject: {reply!r}")


class _Pull:
    """Outstanding ``MSG.NEXT`` requests on one inbox, filled by a message callback.

    The server answers requests in order, so the oldest open request owns each message; a
    request ends when it holds ``batch`` messages or a status (404: nothing more) arrives.
    """

    def __init__(self, batch: int) -> None:
        self.batch = batch
        self.open: list[tuple[list[RawMessage], asyncio.Future[int]]] = []
        self.pending = -1

    def request(self) -> tuple[list[RawMessage], asyncio.Future[int]]:
        slot: tuple[list[RawMessage], asyncio.Future[int]] = (
            [],
            asyncio.get_running_loop().create_future(),
        )
        self.open.append(slot)
        return slot

    async def on_msg(self, msg: Msg) -> None:
        headers = msg.headers
        self._take(
            headers.get("Status") if headers else None,
            headers,
            msg.reply,
            lambda seq: RawMessage(
                seq=seq,
                subject=msg.subject,
                msg_id=headers.get("Nats-Msg-Id") if headers else None,
                data=msg.data,
            ),
        )

    def on_raw(self, subject: bytes, reply: bytes, data: bytes, headers: bytes | None) -> None:
        """:meth:`on_msg` for a :class:`RawReadClient`: headers looked at, not parsed."""
        self._take(
            _raw_status(headers),
            headers,
            reply.decode(),
            lambda seq: RawMessage(
                seq=seq,
                subject=subject.decode(),
                msg_id=_raw_header(headers, b"Nats-Msg-Id"),
                data=data,
            ),
        )

    def _take(
        self,
        status: str | None,
        headers: object,
        reply: str,
        message: Callable[[int], RawMessage],
    ) -> None:
        """A delivered message into the oldest open request, or a status that ends it."""
        if not self.open:
            return
        out, done = self.open[0]
        if status is not None:
            if status in ("404", "408"):
                self.open.pop(0)
                done.set_result(self.pending)
            elif status != "100":
                self.open.pop(0)
                text = headers.decode(errors="replace") if isinstance(headers, bytes) else headers
                done.set_exception(PullError(f"pull request refused: status {status} {text}"))
            return
        seq, self.pending = _ack_fields(reply)
        out.append(message(seq))
        if len(out) >= self.batch:
            self.open.pop(0)
            done.set_result(self.pending)


async def read_batches(
    nc: NATS,
    stream: str,
    subject_filter: str,
    *,
    from_seq: int = 1,
    batch: int = PULL_BATCH,
    ahead: int = PULL_AHEAD,
) -> AsyncGenerator[list[RawMessage], None]:
    """Every message matching ``subject_filter`` from ``from_seq`` on, in batches, to the end.

    An ephemeral pull consumer (no acks, in memory) delivers into a message callback: no
    task and no timeout per message, which is what makes nats-py fast. At most ``ahead``
    batches are requested beyond the one being handed out, so memory stays bounded. On a
    :class:`RawReadClient` the callback gets the messages unparsed (no header dict, no
    ``Msg``), which halves the cost of reading.
    """
    js = nc.jetstream()
    info = await js.add_consumer(
        stream,
        ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=max(from_seq, 1),
            ack_policy=AckPolicy.NONE,
            filter_subject=subject_filter,
            inactive_threshold=CONSUMER_INACTIVE_S,
            mem_storage=True,
            num_replicas=1,
        ),
    )
    pull = _Pull(batch)
    inbox = nc.new_inbox()
    if isinstance(nc, RawReadClient):
        sub = await nc.subscribe_raw(inbox, pull.on_raw)
    else:
        sub = await nc.subscribe(
            inbox, cb=pull.on_msg, pending_msgs_limit=-1, pending_bytes_limit=-1
        )
    subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{info.name}"
    request = orjson.dumps({"batch": batch, "no_wait": True})
    try:
        queue: list[tuple[list[RawMessage], asyncio.Future[int]]] = []
        ended = False
        while True:
            while not ended and len(queue) <= ahead:
                queue.append(pull.request())
                await nc.publish(subject, request, reply=inbox)
            out, done = queue.pop(0)
            pending = await asyncio.wait_for(done, REPLY_TIMEOUT_S)
            if out:
                yield out
            if len(out) < batch or pending == 0:
                ended = True
            if ended and not queue:
                return
    finally:
        if isinstance(nc, RawReadClient):
            await nc.unsubscribe_raw(sub)
        else:
            await sub.unsubscribe()
        with contextlib.suppress(TimeoutError, NatsError):  # else its inactivity removes it
            await js.delete_consumer(stream, info.name)
