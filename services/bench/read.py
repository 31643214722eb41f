"""Read ceilings: how fast nats-py can read the whole stream, two ways."""

from __future__ import annotations

import asyncio
import time

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from services.jsread import read_filtered


async def direct_get_rate(nc: NATS, stream: str, subject: str, total: int) -> float:
    """Batch direct get, 1000 per request, one request after the other."""
    start = time.perf_counter()
    count = 0
    async for _ in read_filtered(nc, stream, subject):
        count += 1
    assert count == total, (count, total)
    return count / (time.perf_counter() - start)


async def ordered_push_rate(nc: NATS, stream: str, subject: str, total: int) -> float:
    """Ordered push consumer with a message callback (no per-message task or timeout)."""
    js = nc.jetstream()
    done = asyncio.Event()
    count = 0

    async def on_msg(msg: Msg) -> None:
        nonlocal count
        count += 1
        if count == total:
            done.set()

    start = time.perf_counter()
    sub = await js.subscribe(
        subject,
        stream=stream,
        cb=on_msg,
        ordered_consumer=True,
        pending_msgs_limit=-1,
        pending_bytes_limit=-1,
    )
    await asyncio.wait_for(done.wait(), 600)
    rate = total / (time.perf_counter() - start)
    await sub.unsubscribe()
    return rate
