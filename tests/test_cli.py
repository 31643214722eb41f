"""The command line against a real nats-server: erase, audit export and verify, run."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import nats
import orjson
import pytest

from events.aid import PersonRegistered
from events.registry import registry
from events.subjects import Subjects
from services.embedded import NatsServer
from services.runtime import build_vault
from services.settings import Settings
from services.store import CaseHead, Draft, EventStore
from tests.fixtures.examples import example_event, example_meta

DOORSTROOM = [sys.executable, "-m", "services.cli"]


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DOORSTROOM, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
        timeout=120,
    )


@pytest.fixture
def env(nats_server: NatsServer, tmp_path: Path) -> dict[str, str]:
    return {"DOORSTROOM_NATS_URL": nats_server.url, "DOORSTROOM_DATA_DIR": str(tmp_path / "var")}


@asynccontextmanager
async def cli_store(env: dict[str, str]) -> AsyncIterator[EventStore]:
    """A store on the CLI's server with the CLI's own vault (same data dir, same master key)."""
    settings = Settings(
        nats_url=env["DOORSTROOM_NATS_URL"], data_dir=Path(env["DOORSTROOM_DATA_DIR"])
    )
    vault = build_vault(settings)
    nc = await nats.connect(env["DOORSTROOM_NATS_URL"])
    try:
        yield EventStore(
            nc, stream=settings.stream, subjects=Subjects(), registry=registry(), sealer=vault
        )
    finally:
        await nc.close()
        vault.close()


async def _record_person(env: dict[str, str]) -> tuple[uuid.UUID, uuid.UUID, str]:
    """Store a PersonRegistered with personal data, as the CLI's vault sees it."""
    assert cli(env, "stream", "provision").returncode == 0
    async with cli_store(env) as store:
        person, case = uuid.uuid4(), uuid.uuid4()
        event = example_event(PersonRegistered)
        secret = next(v for v in event.public_and_personal()[1].values() if isinstance(v, str))
        meta = example_meta(case_id=case, event_id=uuid.uuid4(), person_ref=person)
        await store.append(CaseHead(case), [Draft(meta, event)])
        return person, case, secret


async def _revealed(env: dict[str, str], case: uuid.UUID) -> bool:
    async with cli_store(env) as store:
        (rec,) = await store.read_case(case, reveal=True)
        return not rec.erased


async def test_erase_command_destroys_the_key_and_replay_shows_fields_erased(
    env: dict[str, str],
) -> None:
    person, case, _ = await _record_person(env)
    assert await _revealed(env, case)
    result = cli(env, "erase", str(person))
    assert result.returncode == 0, result.stderr
    assert "key destroyed" in result.stdout
    assert not await _revealed(env, case)
    verify = cli(env, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr  # erasure breaks no chain


async def test_audit_commands_export_verify_and_fail_on_tampering(
    env: dict[str, str], tmp_path: Path
) -> None:
    _, _, secret = await _record_person(env)
    export = tmp_path / "stream.jsonl"
    result = cli(env, "audit", "export", str(export))
    assert result.returncode == 0, result.stderr
    assert secret.encode() not in export.read_bytes()
    ok = cli(env, "audit", "verify", "--from", str(export))
    assert ok.returncode == 0
    assert "OK" in ok.stdout
    row = orjson.loads(export.read_bytes().splitlines()[0])
    row["record"]["occurred_on"] = "2020-01-01"
    export.write_bytes(orjson.dumps(row) + b"\n")
    bad = cli(env, "audit", "verify", "--from", str(export))
    assert bad.returncode == 1
    assert f"ALTERED: event {row['record']['event_id']}" in bad.stdout


def test_run_starts_on_the_embedded_defaults_without_any_external_service(tmp_path: Path) -> None:
    env = {"DOORSTROOM_DATA_DIR": str(tmp_path / "var")}
    env_clean = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTROOM_")}
    result = subprocess.run(
        [*DOORSTROOM, "run", "--once"],
        capture_output=True,
        text=True,
        env={**env_clean, **env},
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "embedded nats-server" in result.stderr
    assert (tmp_path / "var" / "nats" / "jetstream").is_dir()
    assert not (tmp_path / "var" / "nats" / "server.pid").exists()  # stopped cleanly
