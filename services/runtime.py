"""Composition root: connects (or starts the embedded nats-server) and builds the store.

Every entry point (CLI, HTTP, NATS, workers, tests) builds its runtime here from Settings.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from events.registry import EventRegistry, registry
from events.subjects import Subjects
from services.app import Application
from services.cases import CaseRepository
from services.domain import CaseFold
from services.embedded import NatsServer
from services.jsread import RawReadClient
from services.offices import Offices
from services.settings import Settings
from services.store import EventStore
from services.stream import provision_event_stream, snapshot_bucket
from services.vault import KeyVault, load_or_create_master_key


def embedded_dir(settings: Settings) -> Path:
    return settings.data_dir / "nats"


def running_embedded_url(settings: Settings) -> str | None:
    """URL of an embedded server started by another doorstroom process, if it still runs."""
    folder = embedded_dir(settings)
    try:
        pid = int((folder / "server.pid").read_text())
        url = (folder / "server.url").read_text().strip()
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return url


def start_embedded(settings: Settings) -> NatsServer:
    """Start the embedded nats-server on the data dir and record where it listens."""
    folder = embedded_dir(settings)
    kwargs: dict[str, Any] = {"store_dir": folder, "name": "doorstroom-embedded"}
    if settings.embedded_port:
        kwargs["port"] = settings.embedded_port
    server = NatsServer(**kwargs).start()
    assert server._proc is not None
    (folder / "server.pid").write_text(str(server._proc.pid))
    (folder / "server.url").write_text(server.url)
    return server


def stop_embedded(server: NatsServer, settings: Settings) -> None:
    server.stop()
    for name in ("server.pid", "server.url"):
        with suppress(FileNotFoundError):
            (embedded_dir(settings) / name).unlink()


async def connect(settings: Settings, url: str, *, name: str = "doorstroom") -> NATS:
    options: dict[str, Any] = {
        "servers": url.split(","),
        "name": name,
        "max_reconnect_attempts": -1,
    }
    if settings.nats_creds:
        options["user_credentials"] = str(settings.nats_creds)
    if settings.nats_user:
        options["user"] = settings.nats_user
        if settings.nats_password:
            options["password"] = settings.nats_password.get_secret_value()
    if settings.nats_token:
        options["token"] = settings.nats_token.get_secret_value()
    # The client class only changes subscriptions that ask for raw messages (fast replays).
    nc = RawReadClient()
    await nc.connect(**options)
    return nc


@dataclass
class Runtime:
    settings: Settings
    nc: NATS
    js: JetStreamContext
    store: EventStore
    vault: KeyVault
    registry: EventRegistry
    server: NatsServer | None = None
    url: str = ""
    """The NATS server in use (also when started here)."""

    def settings_for_workers(self) -> Settings:
        """These settings, naming the server in use, for worker processes to connect to."""
        return self.settings.model_copy(update={"nats_url": self.url})


async def build_application(rt: Runtime) -> Application:
    """The application service on the runtime's store, with case snapshots and the key vault."""
    snapshots = await snapshot_bucket(rt.js, rt.settings)
    return Application(CaseRepository(rt.store, CaseFold(), snapshots), eraser=rt.vault)


def build_vault(settings: Settings) -> KeyVault:
    master = load_or_create_master_key(
        settings.master_key.get_secret_value() if settings.master_key else None,
        settings.data_dir,
    )
    return KeyVault(settings.vault_url, master)


@asynccontextmanager
async def open_runtime(
    settings: Settings | None = None, *, own_server: bool = False
) -> AsyncIterator[Runtime]:
    """Connect to NATS (external, a running embedded server, or one started here)."""
    settings = settings or Settings()
    server: NatsServer | None = None
    url = settings.nats_url or (None if own_server else running_embedded_url(settings))
    if url is None:
        server = start_embedded(settings)
        url = server.url
    vault: KeyVault | None = None
    nc: NATS | None = None
    try:
        nc = await connect(settings, url)
        js = nc.jetstream()
        await provision_event_stream(js, settings)
        vault = build_vault(settings)
        reg = registry()
        store = EventStore(
            nc,
            stream=settings.stream,
            subjects=Subjects(settings.subject_prefix),
            registry=reg,
            sealer=vault,
            offices=Offices.load(settings.offices_file),
        )
        yield Runtime(settings, nc, js, store, vault, reg, server, url)
    finally:
        if nc is not None:
            try:
                await nc.drain()
            except nats.errors.Error:
                # Not connected any more (server gone, reconnecting): nothing left to drain.
                await nc.close()
        if vault is not None:
            vault.close()
        if server is not None:
            stop_embedded(server, settings)
