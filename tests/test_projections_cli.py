"""``doorstroom projections``: status through the CLI, and a worker process stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from events.registry import registry
from projections.case_directory import case_directory
from projections.engine import Runner
from services.cli import app
from services.db import Database
from services.embedded import NatsServer
from tests.support.stack import store_on
from tests.test_projections_support import DB_KINDS, WAIT_S, database_url, three_cases

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=DB_KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from database_url(request.param, str(tmp_path))


@pytest.fixture
def env(
    nats_server: NatsServer, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    values = {
        "DOORSTROOM_NATS_URL": nats_server.url,
        "DOORSTROOM_DB": db_url,
        "DOORSTROOM_DATA_DIR": str(tmp_path / "data"),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


async def _three_cases(nats_server: NatsServer, tmp_path: Path) -> None:
    async with store_on(nats_server.url, tmp_path, registry()) as (store, _):
        await three_cases(store)


async def _catch_up(nats_server: NatsServer, tmp_path: Path, db_url: str) -> None:
    db = Database.connect(db_url)
    try:
        async with store_on(nats_server.url, tmp_path, registry()) as (store, _):
            runner = Runner(
                case_directory,
                db,
                store.nc,
                stream=store.stream,
                subjects=store.subjects,
                registry=store.registry,
            )
            await runner.install()
            await runner.catch_up()
    finally:
        db.close()


def test_status_prints_each_position_the_stream_sequence_and_the_lag(
    env: dict[str, str], nats_server: NatsServer, db_url: str, tmp_path: Path
) -> None:
    asyncio.run(_three_cases(nats_server, tmp_path))
    before = CliRunner().invoke(app, ["projections", "status"])
    assert before.exit_code == 0, before.output
    assert "case_directory.v1: position 0, stream last sequence 8, lag 8 events, " in before.output

    asyncio.run(_catch_up(nats_server, tmp_path, db_url))
    after = CliRunner().invoke(app, ["projections", "status", "--name", "case_directory"])
    assert after.exit_code == 0, after.output
    assert (
        "case_directory.v1: position 8, stream last sequence 8, lag 0 events, 0.0 s" in after.output
    )


def test_an_unknown_projection_name_is_refused(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["projections", "status", "--name", "nope"])
    assert result.exit_code == 2
    assert "unknown projection(s) nope" in result.output


async def test_the_worker_process_catches_up_and_stops_cleanly_on_sigterm(
    env: dict[str, str], nats_server: NatsServer, tmp_path: Path
) -> None:
    await _three_cases(nats_server, tmp_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        "projections",
        "run",
        cwd=ROOT,
        env={**os.environ, **env},
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(WAIT_S):
            while "case_directory.v1: at stream sequence 8" not in (lines or [""])[-1]:
                line = await proc.stderr.readline()
                assert line, f"worker exited: {lines}"
                lines.append(line.decode())
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(WAIT_S):
            rest = (await proc.stderr.read()).decode()
            assert await proc.wait() == 0, rest
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert "case_directory.v1: stopped at stream sequence 8" in rest
