"""Shared fixtures: real nats-server processes on free ports, real databases."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NATS

from services.embedded import NatsCluster, NatsServer

POSTGRES_ENV = "DOORSTROOM_TEST_POSTGRES"
CI_POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A fresh single nats-server with JetStream, stopped after the test."""
    with NatsServer(store_dir=tmp_path / "nats") as server:
        yield server


@pytest.fixture(scope="module")
def module_nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """One nats-server shared by the tests of a module (each test uses its own stream)."""
    with NatsServer(store_dir=tmp_path_factory.mktemp("nats")) as server:
        yield server


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    """A fresh 3-node JetStream cluster on loopback, stopped after the test."""
    with NatsCluster(base_dir=tmp_path / "cluster") as cluster:
        yield cluster


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_server.url)
    yield client
    await client.close()


def postgres_dsn() -> str:
    """The PostgreSQL DSN for tests: mandatory in CI, skipped elsewhere when unreachable."""
    dsn = os.environ.get(POSTGRES_ENV) or (CI_POSTGRES_DSN if os.environ.get("CI") else None)
    dsn = dsn or CI_POSTGRES_DSN
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is mandatory in CI and unreachable at {dsn}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {dsn}: {exc}")
    return dsn


@pytest.fixture
def pg_dsn() -> str:
    return postgres_dsn()
