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
from pathlib import Path
from typing import Any

from events.registry import registry
from events.subjects import Subjects
from projections.catalogue import PROJECTIONS
from projections.rebuild import REBUILD_BATCH
from services.bench.projections import rebuild_rate
from services.db import sqlite_path
from services.jsread import RawReadClient
from services.store import EventStore


async def main(url: str, stream: str, db_url: str, mode: str) -> dict[str, Any]:
    nc = RawReadClient()  # as the worker connects (services.runtime.connect)
    await nc.connect(url)
    try:
        store = EventStore(nc, stream=stream, subjects=Subjects(), registry=registry(), sealer=None)
        total = await store.last_seq()
        together = await rebuild_rate(store, db_url, PROJECTIONS, REBUILD_BATCH)
        out: dict[str, Any] = {
            "events": total,
            "together_seconds": together["seconds"],
            "together_events_per_s": together["events_per_s"],
            "peak_rss_mb": peak_rss_mb(),
        }
        if mode == "alone":
            folder = sqlite_path(db_url).parent
            out["alone_events_per_s"] = {}
            for projection in PROJECTIONS:
                path = folder / f"alone-{projection.key}.sqlite3"
                alone = await rebuild_rate(store, f"sqlite:///{path}", (projection,), REBUILD_BATCH)
                out["alone_events_per_s"][projection.key] = alone["events_per_s"]
                _remove(path)
        return out
    finally:
        await nc.close()


async def run_child(nats_url: str, stream: str, db_url: str, *, alone: bool) -> dict[str, Any]:
    """Run this module in a process of its own (the worker) and return its JSON line."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.bench.rebuild",
        nats_url,
        stream,
        db_url,
        "alone" if alone else "together",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"the rebuild process failed: {err.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


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
