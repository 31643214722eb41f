"""Hand-encoded HPUB frames and the token requester against a real nats-server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import NoRespondersError

from services.embedded import NatsServer
from services.jsread import RawReadClient
from services.natsproto import Requester, _headers, hpub_frame, publish_many


def test_hpub_frame_layout() -> None:
    frame = hpub_frame("a.b", {"K": "v"}, b"xyz", reply="r.1")
    header = b"NATS/1.0\r\nK: v\r\n\r\n"
    assert frame == b"HPUB a.b r.1 %d %d\r\n" % (len(header), len(header) + 3) + header + b"xyz\r\n"


async def test_publish_many_delivers_headers_and_payloads_in_order(nc: NATS) -> None:
    received: list[Msg] = []
    done = asyncio.Event()

    async def on_msg(msg: Msg) -> None:
        received.append(msg)
        if len(received) == 50:
            done.set()

    await nc.subscribe("t.>", cb=on_msg)
    await nc.flush()
    await publish_many(
        nc,
        ((f"t.{i}", {"Nats-Msg-Id": f"id-{i}", "X-N": str(i)}, b"p%d" % i) for i in range(50)),
    )
    await asyncio.wait_for(done.wait(), 10)
    assert [m.subject for m in received] == [f"t.{i}" for i in range(50)]
    assert [m.data for m in received] == [b"p%d" % i for i in range(50)]
    assert received[7].headers == {"Nats-Msg-Id": "id-7", "X-N": "7"}


async def echoed(nc: NATS) -> Requester:
    """A Requester on ``nc`` whose 20 concurrent requests to an echo service came back right."""

    async def echo(msg: Msg) -> None:
        await msg.respond(b"re:" + msg.data + b":" + (msg.headers or {}).get("H", "").encode())

    await nc.subscribe("svc.echo", cb=echo)
    await nc.flush()
    requester = Requester(nc)
    replies = await asyncio.gather(
        *(requester.request("svc.echo", {"H": str(i)}, b"m%d" % i, 5) for i in range(20))
    )
    assert [r.data for r in replies] == [b"re:m%d:%d" % (i, i) for i in range(20)]
    return requester


async def test_requester_resolves_replies_by_token_and_reports_no_responders(nc: NATS) -> None:
    requester = await echoed(nc)
    with pytest.raises(NoRespondersError):
        await requester.request("svc.nobody", {"H": "x"}, b"", 5)


@pytest.fixture
async def raw_nc(nats_server: NatsServer) -> AsyncIterator[RawReadClient]:
    client = RawReadClient()
    await client.connect(nats_server.url)
    yield client
    await client.close()


async def test_requester_on_a_raw_client_resolves_replies_from_the_read_loop(
    raw_nc: RawReadClient,
) -> None:
    requester = await echoed(raw_nc)
    assert raw_nc._raw_handlers  # the inbox is a raw subscription
    assert raw_nc._pending_data_size == 0  # nothing waits for the flusher
    with pytest.raises(NoRespondersError):
        await requester.request("svc.nobody", {"H": "x"}, b"", 5)


@pytest.mark.parametrize(
    "block",
    [
        b"NATS/1.0 503\r\n\r\n",
        b"NATS/1.0 404 No Messages\r\n\r\n",
        b"NATS/1.0\r\nNats-Msg-Id: a\r\nX: 1\r\n\r\n",
        b"NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 7\r\n\r\n",
    ],
)
async def test_raw_reply_headers_read_as_nats_py_reads_them(block: bytes) -> None:
    assert _headers(block) == await NATS()._process_headers(block)
