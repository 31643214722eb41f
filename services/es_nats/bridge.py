"""Bridge from synchronous callers to an asyncio loop running in a daemon thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from eventsourcing.persistence import OperationalError, ProgrammingError

T = TypeVar("T")


class LoopThread:
    """An asyncio event loop running forever in a daemon thread.

    ``run()`` submits a coroutine with ``asyncio.run_coroutine_threadsafe`` and waits for
    its result; ``stop()`` stops the loop, cancels what is left and joins the thread.
    """

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    @property
    def in_loop_thread(self) -> bool:
        return threading.get_ident() == self._thread.ident

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        with self._lock:
            if self._closed:
                coro.close()
                raise OperationalError("The NATS datastore is closed")
            return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        if self.in_loop_thread:
            coro.close()
            raise ProgrammingError("Blocking NATS call from the NATS event loop thread")
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise OperationalError(f"NATS operation did not finish in {timeout}s") from None

    def call_soon(self, callback: Callable[[], None]) -> None:
        """Schedule ``callback`` on the loop from any thread (ignored once stopped)."""
        with self._lock:
            if not self._closed:
                self.loop.call_soon_threadsafe(callback)

    def stop(self, timeout: float) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self.loop.call_soon_threadsafe(self.loop.stop)
        if not self.in_loop_thread:
            self._thread.join(timeout)
