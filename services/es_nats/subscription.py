"""``ApplicationRecorder.subscribe()``: a pull consumer driven by hand on the loop.

An ephemeral pull consumer (ack policy none, in memory, one replica) starts after ``gt``
and filters the event subjects. The follower sends ``$JS.API.CONSUMER.MSG.NEXT`` requests
whose replies arrive in a callback (no ``fetch()``, no per-message task or timeout); a
request stays open for ``PULL_EXPIRES_S`` so that new events are delivered as they are
committed. At most ``capacity`` notifications wait in the iterator's queue: the next
request asks only for free places, and the iterator wakes the follower when half the
queue is free. A gap in the consumer sequence, a deleted consumer or missing idle
heartbeats (checked by a timer on the loop) recreate the consumer from the last
sequence received, so nothing is skipped or repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import nats.js.errors
from eventsourcing.persistence import Notification, OperationalError, Subscription
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsCoreSubscription
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.es_nats.codec import StreamSubjects, to_notification
from services.es_nats.datastore import STATUS, NatsDatastore

if TYPE_CHECKING:
    from services.es_nats.recorders import NatsApplicationRecorder

log = logging.getLogger(__name__)

PULL_BATCH = 500
PULL_EXPIRES_S = 30.0
IDLE_HEARTBEAT_S = 5.0
INACTIVE_THRESHOLD_S = 120.0
_NS = 1_000_000_000


class _Credit:
    """How many notifications wait in the iterator's queue (shared by two threads)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._buffered = 0
        self._waiting = False
        self._lock = threading.Lock()

    def free(self) -> int:
        """Places to ask for now; 0 (and remember to be woken) if less than half free."""
        with self._lock:
            free = self.capacity - self._buffered
            if free * 2 < self.capacity:
                self._waiting = True
                return 0
            return free

    def added(self) -> None:
        with self._lock:
            self._buffered += 1

    def taken(self) -> bool:
        """One notification left the queue; True if the follower should be woken."""
        with self._lock:
            self._buffered -= 1
            if self._waiting and self._buffered * 2 <= self.capacity:
                self._waiting = False
                return True
            return False


class _PullFollower:
    """Runs on the datastore's loop; hands notifications to ``deliver``."""

    def __init__(
        self,
        datastore: NatsDatastore,
        stream: str,
        subjects: StreamSubjects,
        start_seq: int,
        topics: frozenset[str],
        credit: _Credit,
        deliver: Callable[[Notification], None],
        fail: Callable[[BaseException], None],
    ) -> None:
        self._ds = datastore
        self._stream = stream
        self._subjects = subjects
        self._next_seq = max(1, start_seq)
        self._topics = topics
        self._credit = credit
        self._deliver = deliver
        self._fail = fail
        self._consumer: str | None = None
        self._last_dseq = 0
        self._inbox = ""
        self._sub: NatsCoreSubscription | None = None
        self._request_open = False
        self._remaining = 0
        self._last_activity = 0.0
        self._recovering = False
        self._closed = False
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._inbox = self._ds.inbox()
        self._sub = await self._ds.nc.subscribe(self._inbox, cb=self._on_msg)
        await self._create_consumer()
        await self._pull()
        self._timer = self._ds.loop.call_later(IDLE_HEARTBEAT_S, self._tick)

    async def _create_consumer(self) -> None:
        config = ConsumerConfig(
            description="eventsourcing subscription",
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=self._next_seq,
            ack_policy=AckPolicy.NONE,
            filter_subject=self._subjects.events,
            inactive_threshold=INACTIVE_THRESHOLD_S,
            mem_storage=True,
            num_replicas=1,
        )
        info = await self._ds.js.add_consumer(self._stream, config)
        self._consumer = info.name
        self._last_dseq = 0

    async def _pull(self) -> None:
        if self._closed or self._request_open or self._consumer is None:
            return
        batch = min(self._credit.free(), PULL_BATCH)
        if batch == 0:
            return  # woken by the iterator when there is room again
        self._request_open = True
        self._remaining = batch
        self._last_activity = self._ds.loop.time()
        request = {
            "batch": batch,
            "expires": int(PULL_EXPIRES_S * _NS),
            "idle_heartbeat": int(IDLE_HEARTBEAT_S * _NS),
        }
        await self._ds.nc.publish(
            f"$JS.API.CONSUMER.MSG.NEXT.{self._stream}.{self._consumer}",
            json.dumps(request).encode(),
            reply=self._inbox,
        )

    def wake(self) -> None:
        """Called (on the loop) by the iterator when half the queue is free."""
        self._spawn(self._pull())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        if self._closed:
            coro.close()
            return
        task = self._ds.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("Subscription to %s: %r", self._stream, task.exception())

    async def _on_msg(self, msg: Msg) -> None:
        if self._closed:
            return
        self._last_activity = self._ds.loop.time()
        headers = msg.headers or {}
        status = headers.get(STATUS)
        if status is not None and not msg.data:
            await self._on_status(status, headers.get("Description", ""))
            return
        metadata = msg.metadata
        if metadata.consumer != self._consumer:
            return  # from a consumer replaced meanwhile
        dseq, sseq = metadata.sequence.consumer, metadata.sequence.stream
        if dseq != self._last_dseq + 1:
            log.info("Subscription to %s missed messages, resuming", self._stream)
            await self._recover()
            return
        self._last_dseq = dseq
        self._remaining -= 1
        if sseq >= self._next_seq:
            self._next_seq = sseq + 1
            try:
                notification = to_notification(
                    self._subjects, sseq, msg.subject, msg.headers, msg.data
                )
            except Exception as exc:
                self._fail(exc)
                await self.close()
                return
            if not self._topics or notification.topic in self._topics:
                self._credit.added()
                self._deliver(notification)
        if self._remaining <= 0:
            self._request_open = False
            await self._pull()

    async def _on_status(self, status: str, description: str) -> None:
        if status == "100":  # idle heartbeat
            return
        gone = status == "503" or (
            status == "409" and any(w in description for w in ("Deleted", "Leadership", "Shutdown"))
        )
        if gone:
            await self._recover()
        elif status in ("404", "408", "409"):
            # The request ended (expired, or another 409 such as a batch completed).
            self._request_open = False
            await self._pull()
        else:
            self._fail(OperationalError(f"Pull from {self._stream!r}: {status} {description}"))
            await self.close()

    async def _recover(self) -> None:
        """Replace the consumer, resuming after the last sequence received."""
        if self._closed or self._recovering:
            return
        self._recovering = True
        old, self._consumer = self._consumer, None
        self._request_open = False
        try:
            if old is not None:
                with contextlib.suppress(Exception):
                    await self._ds.js.delete_consumer(self._stream, old)
            await self._create_consumer()
            await self._pull()
        except nats.js.errors.NotFoundError as exc:
            self._fail(OperationalError(f"Stream {self._stream!r} is gone: {exc}"))
            await self.close()
        except Exception as exc:
            log.warning("Subscription to %s cannot resume yet: %r", self._stream, exc)
        finally:
            self._recovering = False

    def _tick(self) -> None:
        """Liveness check: a consumer must exist, an open request must hear heartbeats."""
        if self._closed:
            return
        silent = self._ds.loop.time() - self._last_activity > 2 * IDLE_HEARTBEAT_S + 1
        if self._consumer is None or (self._request_open and silent):
            self._spawn(self._recover())
        self._timer = self._ds.loop.call_later(IDLE_HEARTBEAT_S, self._tick)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
        if self._consumer is not None and not self._ds.nc.is_closed:
            with contextlib.suppress(Exception):
                await self._ds.js.delete_consumer(self._stream, self._consumer)


_STOP = object()


class NatsSubscription(Subscription["NatsApplicationRecorder"]):
    """Blocking iterator of notifications committed after ``gt`` (see module doc)."""

    def __init__(
        self,
        recorder: NatsApplicationRecorder,
        gt: int | None = None,
        topics: Sequence[str] = (),
        *,
        capacity: int = 2 * PULL_BATCH,
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._ds = recorder.datastore
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._credit = _Credit(capacity)
        self._error: BaseException | None = None
        self._closing: Any = None
        self._follower = _PullFollower(
            datastore=self._ds,
            stream=recorder.stream_name,
            subjects=recorder.subjects,
            start_seq=(gt or 0) + 1,
            topics=frozenset(topics),
            credit=self._credit,
            deliver=self._queue.put,
            fail=self._on_error,
        )
        self._ds.notify_on_close(self)
        self._ds.run(self._follower.start())

    async def datastore_closing(self) -> None:
        """The factory is closing: end the iteration (no error), delete the consumer."""
        self._has_been_stopped = True
        self._queue.put(_STOP)
        await self._follower.close()

    def _on_error(self, error: BaseException) -> None:
        self._error = error
        self._has_been_stopped = True
        self._queue.put(_STOP)

    def __next__(self) -> Notification:
        if self._has_been_stopped:
            self._end()
        item = self._queue.get()
        if item is _STOP or self._has_been_stopped:
            self._end()
        assert isinstance(item, Notification)
        if self._credit.taken():
            self._ds.call_soon(self._follower.wake)
        self._last_notification_id = item.id
        return item

    def _end(self) -> NoReturn:
        self._queue.put(_STOP)  # let any other waiting caller end too
        if self._error is not None:
            raise self._error
        raise StopIteration

    def stop(self) -> None:
        """Stop iterating (from any thread) and delete the consumer."""
        super().stop()
        self._queue.put(_STOP)
        if self._closing is None and not self._ds.closed:
            with contextlib.suppress(OperationalError):
                self._closing = self._ds.submit(self._follower.close())

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        super().__exit__(*args, **kwargs)
        closing = self._closing
        if closing is not None and not self._ds.closed:
            with contextlib.suppress(Exception):
                closing.result(timeout=self._ds.settings.timeout + 1)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
