"""Where every benchmark runs: a temporary directory and a connection to NATS."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from nats.aio.client import Client as NATS

from services.embedded import NatsServer
from services.jsread import RawReadClient


@dataclass(frozen=True)
class Bench:
    directory: Path
    url: str
    nc: NATS
    own_server: bool


@asynccontextmanager
async def bench_nats(prefix: str = "doorstroom-bench-") -> AsyncIterator[Bench]:
    """A temporary directory and a connection to ``DOORSTROOM_NATS_URL`` if set, else to a
    nats-server of its own (from the wheel) in that directory; both gone afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        directory = Path(tmp)
        server = None
        url = os.environ.get("DOORSTROOM_NATS_URL")
        if not url:
            server = NatsServer(store_dir=directory / "nats").start()
            url = server.url
        try:
            nc = RawReadClient()  # the projections' fast reads work on it too
            await nc.connect(url, max_reconnect_attempts=-1)
            try:
                yield Bench(directory, url, nc, own_server=server is not None)
            finally:
                await nc.close()
        finally:
            if server is not None:
                server.stop()
