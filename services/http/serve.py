"""Run the API with uvicorn inside the caller's event loop, next to the other services."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

T = TypeVar("T")


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop (libuv) where it is installed: less CPU per request and per
    NATS message than the pure-Python selector loop; the standard loop elsewhere."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without uvloop (Windows)
        return asyncio.run(main)
    return uvloop.run(main)


def settle_heap() -> None:
    """Keep the garbage collector off everything built at startup, once the service runs.

    Modules, schemas, validators and the app are allocated once and live for the whole
    process; ``gc.freeze`` moves them out of the collected generations, so the full
    collections that a long-running service triggers now and then scan only what was
    allocated since, and take less time out of a request.
    """
    gc.collect()
    gc.freeze()


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on ``host:port`` (port 0: any free port)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@asynccontextmanager
async def serving(
    app: FastAPI, host: str, port: int, *, log_level: str = "info", access_log: bool = True
) -> AsyncIterator[str]:
    """Serve ``app`` on ``host:port`` while the block runs; yields the base URL.

    The socket is bound first, so a port in use fails here and not in a background task;
    signals stay with the caller (uvicorn's own handlers are not installed).
    """
    sock = bind(host, port)
    # http="httptools": the C parser (a dependency) rather than the pure-Python h11.
    config = uvicorn.Config(
        app, lifespan="off", log_level=log_level, access_log=access_log, http="httptools"
    )
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    try:
        await server.startup(sockets=[sock])
        loop = asyncio.create_task(server.main_loop())
        try:
            yield url_of(sock)
        finally:
            server.should_exit = True
            await loop
            await server.shutdown(sockets=[sock])
    finally:
        sock.close()
