"""In-process signal from the projection workers to readers waiting for a stream sequence.

The workers report every committed batch (``run_projections(progress=board.advance)``);
a reader waiting for a position wakes up at once instead of at its next poll. The board
is only a wake-up: readers always confirm the position in the read-model database.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress


class PositionBoard:
    """The last committed position each projection reported, and a wake-up for waiters."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._positions: dict[str, int] = {}
        self._signal = asyncio.Event()

    def advance(self, key: str, position: int) -> None:
        """Called by the workers after each commit; safe from any thread."""
        self._loop.call_soon_threadsafe(self._advance, key, position)

    def _advance(self, key: str, position: int) -> None:
        if position > self._positions.get(key, -1):
            self._positions[key] = position
        signal, self._signal = self._signal, asyncio.Event()
        signal.set()

    def position(self, key: str) -> int | None:
        """The last reported position of ``key`` (None: nothing reported in this process)."""
        return self._positions.get(key)

    def signal(self) -> asyncio.Event:
        """Set on the next report. Take it before checking the database, then wait on it,
        so a report between the check and the wait is not missed."""
        return self._signal

    @staticmethod
    async def wait(signal: asyncio.Event, timeout: float) -> None:
        """Until ``signal`` is set, at most ``timeout`` seconds."""
        with suppress(TimeoutError):
            await asyncio.wait_for(signal.wait(), timeout)
