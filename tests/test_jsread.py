"""Reading the stream raw (``RawReadClient``) gives what nats-py's parsed messages give."""

from __future__ import annotations

import asyncio

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import StreamConfig

from services.embedded import NatsServer
from services.jsread import RawMessage, RawReadClient, read_batches


async def _read(nc: NATS, subject_filter: str, from_seq: int) -> list[RawMessage]:
    return [
        raw
        async for raws in read_batches(nc, "RAW", subject_filter, from_seq=from_seq, batch=3)
        for raw in raws
    ]


async def test_raw_reads_equal_parsed_reads_and_leave_other_subscriptions_alone(
    nats_server: NatsServer,
) -> None:
    plain = await nats.connect(nats_server.url)
    raw = RawReadClient()
    await raw.connect(nats_server.url)
    try:
        js = plain.jetstream()
        await js.add_stream(StreamConfig(name="RAW", subjects=["raw.>"]))
        for n in range(10):
            headers = {"Nats-Msg-Id": f"id-{n}", "X-Other": "a: b"} if n % 3 else None
            await js.publish(f"raw.{n % 2}", f"payload {n}".encode(), headers=headers)
        for subject_filter, from_seq in (("raw.>", 1), ("raw.1", 4), ("raw.>", 11)):
            expected = await _read(plain, subject_filter, from_seq)
            assert await _read(raw, subject_filter, from_seq) == expected
        assert [m.msg_id for m in await _read(raw, "raw.>", 1)][:4] == [None, "id-1", "id-2", None]
        assert await _read(raw, "raw.>", 11) == []

        got: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()

        async def on_msg(msg: Msg) -> None:
            got.set_result(msg)

        await raw.subscribe("plain.subject", cb=on_msg)
        await raw.flush()  # the server has the subscription before the other client publishes
        await plain.publish("plain.subject", b"hi", headers={"Nats-Msg-Id": "x", "K": "v"})
        msg = await asyncio.wait_for(got, 10)
        assert (msg.data, msg.headers) == (b"hi", {"Nats-Msg-Id": "x", "K": "v"})
    finally:
        await raw.close()
        await plain.close()
