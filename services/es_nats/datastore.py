"""One NATS connection with its own asyncio loop in a daemon thread, and the raw
JetStream operations the recorders need (all run on that loop)."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import json
import logging
import weakref
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from uuid import uuid4

import nats
import nats.errors
import nats.js.errors
from eventsourcing.persistence import DataError, OperationalError, ProgrammingError
from eventsourcing.utils import Environment
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import StreamConfig, StreamInfo

from services.es_nats.bridge import LoopThread

log = logging.getLogger(__name__)

T = TypeVar("T")

EXPECTED_LAST_SUBJECT_SEQ = "Nats-Expected-Last-Subject-Sequence"
MSG_ID = "Nats-Msg-Id"
BATCH_ID = "Nats-Batch-Id"
BATCH_SEQ = "Nats-Batch-Sequence"
BATCH_COMMIT = "Nats-Batch-Commit"
STATUS = "Status"

#: Server error codes that mean "not written because of a concurrent or repeated write":
#: wrong last subject sequence (single server / clustered), duplicate message id in batch.
CONFLICT_CODES = frozenset({10071, 10164, 10201})
#: Largest atomic batch the server accepts by default (ADR-50).
MAX_BATCH = 1000
_NOT_FOUND_CODES = frozenset({10037})  # no message found


def _env_float(env: Environment, key: str, default: float) -> float:
    raw = (env.get(key) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise OSError(f"{key} must be a number, got {raw!r}") from None
    if value <= 0:
        raise OSError(f"{key} must be positive, got {raw!r}")
    return value


@dataclass(frozen=True)
class NatsSettings:
    """Connection settings, read once per factory (see the package docstring)."""

    servers: tuple[str, ...]
    creds: str | None = None
    user: str | None = None
    password: str | None = None
    token: str | None = None
    timeout: float = 5.0
    client_name: str = "eventsourcing"

    @classmethod
    def from_env(cls, env: Environment) -> NatsSettings:
        url = env.get("NATS_URL") or "nats://127.0.0.1:4222"
        servers = tuple(u.strip() for u in url.split(",") if u.strip())
        if not servers:
            raise OSError("NATS_URL is empty")
        return cls(
            servers=servers,
            creds=env.get("NATS_CREDS") or None,
            user=env.get("NATS_USER") or None,
            password=env.get("NATS_PASSWORD") or None,
            token=env.get("NATS_TOKEN") or None,
            timeout=_env_float(env, "NATS_TIMEOUT", 5.0),
            client_name=f"eventsourcing:{env.name}" if env.name else "eventsourcing",
        )


@dataclass(frozen=True)
class RawMsg:
    """A stored message as read back from the stream."""

    seq: int
    subject: str
    headers: Mapping[str, str]
    data: bytes


@dataclass
class OutMsg:
    """A message to publish (one element of an atomic batch)."""

    subject: str
    data: bytes
    headers: dict[str, str]


class PublishConflictError(Exception):
    """Internal: the server refused the write with one of CONFLICT_CODES."""

    def __init__(self, err_code: int, description: str) -> None:
        super().__init__(f"{description} (err_code {err_code})")
        self.err_code = err_code


class PublishTimeoutError(Exception):
    """Internal: no acknowledgement in time; the write may or may not have happened."""


class LastKnown:
    """Bounded LRU map subject -> (stream sequence, value) of the last message known on a
    subject: a lower bound of the truth (used as the expected sequence of the next write,
    the server refuses a stale one). Only used on the loop thread."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self._items: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._maxsize = maxsize

    def get(self, subject: str) -> tuple[int, int | None]:
        item = self._items.get(subject)
        if item is None:
            return 0, None
        self._items.move_to_end(subject)
        return item

    def raise_to(self, subject: str, seq: int, value: int) -> None:
        """Remember (seq, value) unless a later message is already known."""
        current = self._items.get(subject)
        if current is None or current[0] < seq:
            self.set(subject, seq, value)

    def set(self, subject: str, seq: int, value: int) -> None:
        self._items[subject] = (seq, value)
        self._items.move_to_end(subject)
        while len(self._items) > self._maxsize:
            self._items.popitem(last=False)

    def forget(self, subject: str) -> None:
        self._items.pop(subject, None)


class CloseListener(Protocol):
    async def datastore_closing(self) -> None:
        """Called on the loop before the connection is drained."""


@dataclass
class _Collector:
    """Collects the replies of one direct-get request."""

    batch: bool
    done: asyncio.Future[None]
    msgs: list[RawMsg] = field(default_factory=list)
    num_pending: int = 0
    error: str | None = None

    def feed(self, msg: Msg) -> None:
        if self.done.done():
            return
        headers = msg.headers or {}
        status = headers.get(STATUS)
        if status is not None and not msg.data:
            if status == "204":  # end of batch
                self.num_pending = int(headers.get("Nats-Num-Pending", "0"))
            elif status != "404":  # 404: no (more) matching message
                self.error = f"{status} {headers.get('Description', '')}".strip()
            self.done.set_result(None)
            return
        self.msgs.append(
            RawMsg(
                seq=int(headers["Nats-Sequence"]),
                subject=headers["Nats-Subject"],
                headers=headers,
                data=msg.data,
            )
        )
        if not self.batch:
            self.done.set_result(None)


def parse_header_block(block: bytes) -> dict[str, str]:
    """Parse a ``NATS/1.0`` header block as stored by the server."""
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers[name.strip()] = value.strip()
    return headers


class NatsDatastore:
    """A NATS connection owned by one infrastructure factory.

    Every public coroutine here must run on ``self.loop``; synchronous callers use
    :meth:`run`, which bridges with ``asyncio.run_coroutine_threadsafe``.
    """

    def __init__(self, settings: NatsSettings) -> None:
        self.settings = settings
        self._bridge = LoopThread(name=f"nats-{settings.client_name}")
        self._collectors: dict[str, _Collector] = {}
        self._next_token = 0
        self._closed = False
        self._listeners: weakref.WeakSet[CloseListener] = weakref.WeakSet()
        try:
            self.run(self._connect())
        except BaseException:
            self._bridge.stop(timeout=5)
            raise

    # -- bridge ---------------------------------------------------------------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._bridge.loop

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def call_timeout(self) -> float:
        """Safety net for a whole bridged call (inner requests have their own timeout)."""
        return max(30.0, 6 * self.settings.timeout)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop thread and wait for its result."""
        return self._bridge.run(coro, self.call_timeout)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return self._bridge.submit(coro)

    def call_soon(self, callback: Callable[[], None]) -> None:
        """Schedule a callback on the loop from any thread (ignored once closed)."""
        self._bridge.call_soon(callback)

    # -- connection -----------------------------------------------------------------------

    async def _connect(self) -> None:
        s = self.settings
        options: dict[str, Any] = {
            "servers": list(s.servers),
            "name": s.client_name,
            "connect_timeout": max(1, int(s.timeout)),
            "max_reconnect_attempts": -1,
            "drain_timeout": max(1, int(s.timeout)),
            "error_cb": self._on_error,
            "disconnected_cb": self._on_disconnected,
            "reconnected_cb": self._on_reconnected,
        }
        if s.creds:
            options["user_credentials"] = s.creds
        if s.user:
            options["user"] = s.user
        if s.password:
            options["password"] = s.password
        if s.token:
            options["token"] = s.token
        # With unlimited reconnects nats-py also retries the first connect forever.
        try:
            self.nc: Client = await asyncio.wait_for(nats.connect(**options), 2 * s.timeout)
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            raise OperationalError(f"Cannot connect to NATS at {s.servers}: {exc!r}") from exc
        self.js = self.nc.jetstream(timeout=s.timeout)
        self._reply_prefix = self.nc.new_inbox()
        await self.nc.subscribe(f"{self._reply_prefix}.*", cb=self._on_reply)

    async def _on_error(self, exc: Exception) -> None:
        connected = getattr(self, "nc", None) is not None
        log.log(logging.WARNING if connected else logging.DEBUG, "NATS error: %r", exc)

    async def _on_disconnected(self) -> None:
        if not self._closed:
            log.warning("Disconnected from NATS")

    async def _on_reconnected(self) -> None:
        log.info("Reconnected to NATS at %s", getattr(self.nc.connected_url, "netloc", "?"))

    def notify_on_close(self, listener: CloseListener) -> None:
        """Await ``listener.datastore_closing()`` when closing (held weakly)."""
        self._listeners.add(listener)

    def close(self) -> None:
        """Drain and close the connection, stop the loop and join its thread."""
        if self._closed:
            return
        self._closed = True
        try:
            self._bridge.run(self._disconnect(), timeout=self.settings.timeout + 5)
        except Exception:
            log.warning("Error while closing the NATS connection", exc_info=True)
        finally:
            self._bridge.stop(timeout=10)

    async def _disconnect(self) -> None:
        for listener in list(self._listeners):
            with contextlib.suppress(Exception):
                await listener.datastore_closing()
        for collector in self._collectors.values():
            if not collector.done.done():
                collector.done.cancel()
        if self.nc.is_closed:
            return
        try:
            await self.nc.drain()
        except Exception:
            log.debug("NATS drain failed, closing", exc_info=True)
        if not self.nc.is_closed:
            await self.nc.close()

    def inbox(self) -> str:
        return self.nc.new_inbox()

    # -- streams --------------------------------------------------------------------------

    async def ensure_stream(self, config: StreamConfig) -> None:
        """Create the stream if missing; refuse an existing one that cannot work."""
        assert config.name is not None
        deadline = self.loop.time() + self.settings.timeout
        delay = 0.05
        while True:
            try:
                info = await self._stream_info_or_create(config)
                break
            except (nats.js.errors.ServiceUnavailableError, nats.errors.TimeoutError):
                # JetStream (re)starting, e.g. a cluster electing its meta leader, or an
                # API request lost in an election on a loaded machine: ask again.
                if self.loop.time() + delay > deadline:
                    raise OperationalError("JetStream is not available") from None
                await asyncio.sleep(delay)
                delay *= 2
        existing = info.config
        problems = []
        if not existing.allow_atomic:
            problems.append("allow_atomic is off")
        if not existing.allow_direct:
            problems.append("allow_direct is off")
        wanted = set(config.subjects or ())
        if not wanted.issubset(existing.subjects or ()):
            problems.append(f"subjects {existing.subjects} do not include {sorted(wanted)}")
        if problems:
            raise ProgrammingError(
                f"JetStream stream {config.name!r} exists but " + "; ".join(problems)
            )
        await self._await_direct_access(config.name, deadline)

    async def _await_direct_access(self, stream: str, deadline: float) -> None:
        """Wait until a replica answers direct gets on a just-provisioned stream.

        On a cluster the replicas subscribe to the direct-get subject a moment after the
        stream is created; a read in that moment fails with 503 (no responders), which
        callers would take for a missing stream.
        """
        delay = 0.01
        while True:
            collector = await self._direct(stream, {"last_by_subj": ">"}, batch=False, check=False)
            if collector.error is None or not collector.error.startswith("503"):
                return
            if self.loop.time() + delay > deadline:
                raise OperationalError(f"Stream {stream!r} does not answer direct gets")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def _stream_info_or_create(self, config: StreamConfig) -> StreamInfo:
        assert config.name is not None
        try:
            return await self.js.stream_info(config.name)
        except nats.js.errors.NotFoundError:
            try:
                return await self.js.add_stream(config)
            except nats.js.errors.BadRequestError:
                # Created concurrently with another configuration, checked by the caller.
                return await self.js.stream_info(config.name)

    # -- reading --------------------------------------------------------------------------

    async def _on_reply(self, msg: Msg) -> None:
        collector = self._collectors.get(msg.subject.rsplit(".", 1)[-1])
        if collector is not None:
            collector.feed(msg)

    async def _direct(
        self, stream: str, request: dict[str, Any], *, batch: bool, check: bool = True
    ) -> _Collector:
        self._next_token += 1
        token = str(self._next_token)
        collector = _Collector(batch=batch, done=self.loop.create_future())
        self._collectors[token] = collector
        try:
            await self.nc.publish(
                f"$JS.API.DIRECT.GET.{stream}",
                json.dumps(request).encode(),
                reply=f"{self._reply_prefix}.{token}",
            )
            await asyncio.wait_for(collector.done, self.settings.timeout)
        except TimeoutError:
            raise OperationalError(f"Direct get on stream {stream!r} timed out") from None
        finally:
            del self._collectors[token]
        if check and collector.error is not None:
            if collector.error.startswith("503"):
                raise OperationalError(f"Stream {stream!r} not found (or no direct access)")
            raise OperationalError(f"Direct get on stream {stream!r} failed: {collector.error}")
        return collector

    async def direct_batch(
        self, stream: str, start_seq: int, subject_filter: str, batch: int
    ) -> tuple[list[RawMsg], int]:
        """Up to ``batch`` messages from ``start_seq`` on, and how many more match."""
        request = {"seq": start_seq, "batch": batch, "next_by_subj": subject_filter}
        collector = await self._direct(stream, request, batch=True)
        return collector.msgs, collector.num_pending

    async def direct_last(self, stream: str, subject: str) -> RawMsg | None:
        """The last message on ``subject`` (may lag on a follower of a replicated stream)."""
        collector = await self._direct(stream, {"last_by_subj": subject}, batch=False)
        return collector.msgs[0] if collector.msgs else None

    async def _leader_get(self, stream: str, request: dict[str, Any]) -> RawMsg | None:
        """Stream-leader (authoritative) get of one message."""
        try:
            reply = await self.nc.request(
                f"$JS.API.STREAM.MSG.GET.{stream}",
                json.dumps(request).encode(),
                timeout=self.settings.timeout,
            )
        except nats.errors.NoRespondersError:
            raise OperationalError("JetStream is not available") from None
        except nats.errors.TimeoutError:
            raise OperationalError(f"Message get on stream {stream!r} timed out") from None
        response = json.loads(reply.data)
        error = response.get("error")
        if error is not None:
            if error.get("err_code") in _NOT_FOUND_CODES:
                return None
            raise OperationalError(f"Message get on stream {stream!r} failed: {error}")
        message = response["message"]
        hdrs = message.get("hdrs")
        return RawMsg(
            seq=int(message["seq"]),
            subject=message["subject"],
            headers=parse_header_block(base64.b64decode(hdrs)) if hdrs else {},
            data=base64.b64decode(message.get("data") or ""),
        )

    async def leader_last(self, stream: str, subject: str) -> RawMsg | None:
        return await self._leader_get(stream, {"last_by_subj": subject})

    async def leader_next(self, stream: str, seq: int, subject: str) -> RawMsg | None:
        return await self._leader_get(stream, {"seq": seq, "next_by_subj": subject})

    async def scan(
        self,
        stream: str,
        subject_filter: str,
        start_seq: int,
        visit: Callable[[RawMsg], bool],
        *,
        page: int,
        min_last_seq: int = 0,
    ) -> None:
        """Visit matching messages with sequence >= ``start_seq`` in order until ``visit``
        returns False or the end is reached.

        Pages are read with batch direct gets. If that ends before ``min_last_seq`` (a
        message this process knows was written: a lagging replica answered), the tail
        is read from the stream leader, so a process always reads its own writes.
        """
        seq = max(1, start_seq)
        last_seen = seq - 1
        page = max(1, min(page, MAX_BATCH))
        while True:
            msgs, num_pending = await self.direct_batch(stream, seq, subject_filter, page)
            for msg in msgs:
                last_seen = msg.seq
                if not visit(msg):
                    return
            if not msgs or num_pending <= 0:
                break
            seq = last_seen + 1
        while last_seen < min_last_seq:
            leader_msg = await self.leader_next(stream, last_seen + 1, subject_filter)
            if leader_msg is None:
                break
            last_seen = leader_msg.seq
            if not visit(leader_msg):
                return

    # -- writing --------------------------------------------------------------------------

    async def _request(self, subject: str, data: bytes, headers: dict[str, str]) -> bytes:
        try:
            reply = await self.nc.request(
                subject, data, timeout=self.settings.timeout, headers=headers
            )
        except nats.errors.NoRespondersError:
            raise OperationalError(f"No JetStream stream stores subject {subject!r}") from None
        except nats.errors.TimeoutError:
            raise PublishTimeoutError(subject) from None
        except nats.errors.MaxPayloadError as exc:
            raise DataError(f"Message on {subject!r} is too large: {exc}") from None
        return bytes(reply.data)

    @staticmethod
    def _check_reply(data: bytes) -> dict[str, Any]:
        response: dict[str, Any] = json.loads(data) if data else {}
        error = response.get("error")
        if error is not None:
            err_code = int(error.get("err_code", 0))
            description = str(error.get("description", ""))
            if err_code in CONFLICT_CODES:
                raise PublishConflictError(err_code, description)
            raise OperationalError(f"JetStream refused the write: {description} ({err_code})")
        return response

    async def publish(self, msgs: Sequence[OutMsg]) -> tuple[int, bool]:
        """Store ``msgs`` atomically; return (sequence of the last one, duplicate).

        One message is a plain JetStream publish. More use an atomic batch (ADR-50): the
        first message as a request, the middle ones as plain publishes, the last one as
        a request with ``Nats-Batch-Commit: 1`` that returns the PubAck; the messages
        get consecutive sequence numbers. Raises PublishConflictError,
        PublishTimeoutError or OperationalError.
        """
        if len(msgs) == 1:
            msg = msgs[0]
            response = self._check_reply(await self._request(msg.subject, msg.data, msg.headers))
            return int(response["seq"]), bool(response.get("duplicate", False))
        if len(msgs) > MAX_BATCH:
            raise ProgrammingError(
                f"Cannot write {len(msgs)} messages atomically (at most {MAX_BATCH})"
            )
        batch_id = uuid4().hex
        last = len(msgs)
        response = {}
        for number, msg in enumerate(msgs, start=1):
            headers = {**msg.headers, BATCH_ID: batch_id, BATCH_SEQ: str(number)}
            if number == last:
                headers[BATCH_COMMIT] = "1"
                response = self._check_reply(await self._request(msg.subject, msg.data, headers))
            elif number == 1:
                self._check_reply(await self._request(msg.subject, msg.data, headers))
            else:
                try:
                    await self.nc.publish(msg.subject, msg.data, headers=headers)
                except nats.errors.MaxPayloadError as exc:
                    raise DataError(f"Message on {msg.subject!r} is too large: {exc}") from None
        count = int(response.get("count", last))
        if count != last:
            raise OperationalError(f"Atomic batch stored {count} of {last} messages")
        return int(response["seq"]), False
