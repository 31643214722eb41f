"""Publishing many messages with headers at protocol speed.

nats-py's ``publish`` validates and re-encodes every header on every call (about 30 us a
message); the store's batches carry only headers it built itself (ids and numbers), so it
encodes HPUB frames directly and hands them to the client's own pending buffer and flusher.
Pinned to nats-py 2.16 (pyproject.toml); ``tests/test_natsproto.py`` checks the frames
against a real server.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import MaxPayloadError, NoRespondersError

from services.jsread import RawReadClient

_HDR_LINE = b"NATS/1.0\r\n"
_CRLF = b"\r\n"


def hpub_frame(subject: str, headers: dict[str, str], payload: bytes, reply: str = "") -> bytes:
    """One HPUB protocol frame: subject, optional reply subject, header block and payload."""
    block = b"".join(
        (_HDR_LINE, "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode(), _CRLF)
    )
    target = f"{subject} {reply}" if reply else subject
    return b"".join(
        (
            b"HPUB %s %d %d\r\n" % (target.encode(), len(block), len(block) + len(payload)),
            block,
            payload,
            _CRLF,
        )
    )


async def publish_many(nc: NATS, messages: Iterable[tuple[str, dict[str, str], bytes]]) -> None:
    """Publish messages in order; falls back to ``nc.publish`` while not connected."""
    if not nc.is_connected:
        for subject, headers, payload in messages:
            await nc.publish(subject, payload, headers=headers)
        return
    limit = nc.max_payload
    for subject, headers, payload in messages:
        if len(payload) > limit:
            raise MaxPayloadError
        await nc._send_command(hpub_frame(subject, headers, payload))
    await nc._flush_pending()


class Requester:
    """Requests whose replies arrive on one wildcard inbox, resolved by token.

    Cheaper than ``nc.request`` (no per-request ``wait_for`` task, no header re-encoding):
    the store's pipelined appends are bound by this per-message overhead. A request goes to
    the socket at once rather than on the flusher task's next turn, and on a
    ``RawReadClient`` the reply resolves its future from the connection's read loop rather
    than from the subscription's own task: two turns of the event loop less per request,
    which under load is most of the time a command's append waits for nothing.
    """

    def __init__(self, nc: NATS) -> None:
        self.nc = nc
        self._prefix = ""
        self._futures: dict[str, asyncio.Future[Msg]] = {}
        self._tokens = itertools.count(1)
        self._ready = asyncio.Lock()

    async def _start(self) -> None:
        async with self._ready:
            if not self._prefix:
                prefix = self.nc.new_inbox()
                if isinstance(self.nc, RawReadClient):
                    await self.nc.subscribe_raw(f"{prefix}.*", self._on_raw_reply)
                else:
                    await self.nc.subscribe(f"{prefix}.*", cb=self._on_reply)
                self._prefix = prefix

    def _on_raw_reply(
        self, subject: bytes, reply: bytes, data: bytes, headers: bytes | None
    ) -> None:
        future = self._futures.pop(subject.rsplit(b".", 1)[-1].decode(), None)
        if future is not None and not future.done():
            msg = Msg(self.nc, subject.decode(), reply.decode(), data, _headers(headers))
            future.set_result(msg)

    async def _on_reply(self, msg: Msg) -> None:
        future = self._futures.pop(msg.subject.rsplit(".", 1)[-1], None)
        if future is not None and not future.done():
            future.set_result(msg)

    def _expire(self, token: str) -> None:
        future = self._futures.pop(token, None)
        if future is not None and not future.done():
            future.set_exception(TimeoutError("nats: timeout waiting for a reply"))

    async def send(
        self, subject: str, headers: dict[str, str], payload: bytes, timeout: float
    ) -> asyncio.Future[Msg]:
        """Send now; the future yields the reply (or raises on timeout / no responders)."""
        if not self._prefix:
            await self._start()
        if not self.nc.is_connected:
            return asyncio.ensure_future(
                self.nc.request(subject, payload, headers=headers, timeout=timeout)
            )
        if len(payload) > self.nc.max_payload:
            raise MaxPayloadError
        loop = asyncio.get_running_loop()
        token = str(next(self._tokens))
        future: asyncio.Future[Msg] = loop.create_future()
        self._futures[token] = future
        handle = loop.call_later(timeout, self._expire, token)
        future.add_done_callback(lambda _: handle.cancel())
        reply = f"{self._prefix}.{token}"
        await self.nc._send_command(hpub_frame(subject, headers, payload, reply))
        await _write_pending(self.nc)
        return future

    async def request(
        self, subject: str, headers: dict[str, str], payload: bytes, timeout: float
    ) -> Msg:
        msg = await (await self.send(subject, headers, payload, timeout))
        if (msg.headers or {}).get("Status") == "503":
            raise NoRespondersError
        return msg


async def _write_pending(nc: NATS) -> None:
    """Write the connection's pending protocol data to the socket now, in order.

    The flusher task would do the same on its next turn (and drain the socket); data
    written here is simply no longer pending then.
    """
    flusher = nc._flusher_task
    if nc.is_connected and nc._transport is not None and flusher is not None and not flusher.done():
        if nc._pending_data_size > 0:
            nc._transport.writelines(nc._pending)
            nc._pending = []
            nc._pending_data_size = 0
        return
    await nc._flush_pending()


def _headers(block: bytes | None) -> dict[str, str] | None:
    """The headers of a raw reply as nats-py gives them: an inline status as ``Status``
    (and ``Description``), then every ``Name: value`` line."""
    if not block:
        return None
    lines = block.decode().split("\r\n")
    headers: dict[str, str] = {}
    status = lines[0][len("NATS/1.0") :].strip()
    if status:
        code, _, description = status.partition(" ")
        headers["Status"] = code
        if description:
            headers["Description"] = description
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip()] = value.strip()
    return headers or None
