"""Build a real store on a real nats-server for tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from events.registry import EventRegistry
from events.subjects import Subjects
from services.jsread import RawReadClient
from services.settings import Settings
from services.store import EventStore
from services.stream import provision_event_stream
from services.vault import KeyVault


@asynccontextmanager
async def store_on(
    urls: list[str] | str,
    tmp_path: Path,
    registry: EventRegistry,
    *,
    replicas: int = 1,
    stream: str = "DOORSTROOM",
) -> AsyncIterator[tuple[EventStore, KeyVault]]:
    settings = Settings(
        nats_url=",".join(urls) if isinstance(urls, list) else urls,
        data_dir=tmp_path / "data",
        replicas=replicas,
        stream=stream,
    )
    # The client class the CLI connects with: replays read raw, everything else as in nats-py.
    nc = RawReadClient()
    await nc.connect(servers=settings.nats_url.split(","))  # type: ignore[union-attr]
    vault = KeyVault(f"sqlite:///{tmp_path / 'vault.sqlite3'}", os.urandom(32))
    try:
        await provision_event_stream(nc.jetstream(), settings)
        yield (
            EventStore(
                nc,
                stream=settings.stream,
                subjects=Subjects(settings.subject_prefix),
                registry=registry,
                sealer=vault,
            ),
            vault,
        )
    finally:
        await nc.close()
        vault.close()
