"""The rebuild part of ``doorstroom bench``, run as its own process (the worker).

``python -m services.bench.rebuild NATS_URL STREAM DB_URL together|alone`` rebuilds every
read model together into DB_URL (as ``doorstroom projections run`` does), reads its own
peak resident memory right after, then (``alone``) each read model alone into a fresh
SQLite file next to DB_URL, and prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nats

from events.registry import registry
from events.subjects import Subjects
from projections.catalogue import PROJECTIONS
from projections.projection import Projection
from projections.rebuild import rebuild
from services.db import sqlite_path
from services.store import EventStore


async def main(url: str, stream: str, db_url: str, mode: str) -> dict[str, Any]:
    nc = await nats.connect(url)
    try:
        store = EventStore(nc, stream=stream, subjects=Subjects(), registry=registry(), sealer=None)
        total = await store.last_seq()
        seconds = await _rebuild(store, db_url, PROJECTIONS)
        out: dict[str, Any] = {
            "events": total,
            "together_seconds": round(seconds, 2),
            "together_events_per_s": round(total / seconds),
            "peak_rss_mb": peak_rss_mb(),
        }
        if mode == "alone":
            folder = sqlite_path(db_url).parent
            out["alone_events_per_s"] = {}
            for projection in PROJECTIONS:
                path = folder / f"alone-{projection.key}.sqlite3"
                alone = await _rebuild(store, f"sqlite:///{path}", (projection,))
                out["alone_events_per_s"][projection.key] = round(total / alone)
                _remove(path)
        return out
    finally:
        await nc.close()


async def _rebuild(store: EventStore, db_url: str, projections: Sequence[Projection]) -> float:
    """Seconds of replay and swap of ``projections`` from the whole stream."""
    started = time.perf_counter()
    await rebuild(
        store.nc,
        db_url,
        stream=store.stream,
        subjects=store.subjects,
        registry=store.registry,
        projections=projections,
    )
    return time.perf_counter() - started


def peak_rss_mb() -> float:
    """This process's own peak resident memory since it started this program.

    Linux's ``VmHWM`` belongs to the process image; ``ru_maxrss`` (of the child or of
    itself) also keeps the high-water mark of the forking parent before ``exec``, which
    made a small worker started from a big test process look as big as its parent.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)  # kB
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:5]))))  # noqa: T201 - the parent reads it
