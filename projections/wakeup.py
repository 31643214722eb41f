"""Wake-up signal for caught-up projections: one headers-only ordered consumer per worker.

A core NATS subscription would see a message before JetStream stores it (and the messages
of an atomic batch before their commit), so a read right after such a wake-up can miss it.
An ordered consumer with ``deliver_policy=new`` delivers only stored messages, and
``headers_only`` keeps the payloads off the wire. Carries no data: readers always read
from their checkpoint; a lost wake-up costs at most the bounded wait.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from nats.js.client import JetStreamContext as _JS


class WakeUp:
    """Fans one subscription out to an ``asyncio.Event`` per listening projection."""

    def __init__(self, js: JetStreamContext, subject: str, stream: str) -> None:
        self._js = js
        self._subject = subject
        self._stream = stream
        self._events: list[asyncio.Event] = []
        self._sub: _JS.PushSubscription | None = None

    def listener(self) -> asyncio.Event:
        event = asyncio.Event()
        self._events.append(event)
        return event

    async def _on_message(self, _msg: Msg) -> None:
        for event in self._events:
            event.set()

    async def __aenter__(self) -> Self:
        self._sub = await self._js.subscribe(
            self._subject,
            stream=self._stream,
            cb=self._on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
            headers_only=True,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
