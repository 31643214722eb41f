"""Fast JetStream reads with batch direct get (nats-py has no helper for it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

DIRECT_BATCH = 1000
EXPECTED = "Nats-Expected-Last-Subject-Sequence"
REPLY_TIMEOUT_S = 10.0


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
