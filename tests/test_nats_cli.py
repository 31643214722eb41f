"""The NATS command side from the command line: `doorstroom run` answers, `docs asyncapi`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import nats
import orjson
import pytest

from services.commands import COMMANDS
from services.commands.aid import ReceiveAidRequest
from services.embedded import NatsServer
from services.nats_entry import ROLE_HEADER, USER_HEADER, asyncapi_document
from services.settings import Settings
from tests.support.domain import Case

DOORSTROOM = [sys.executable, "-m", "services.cli"]


async def _until_line(stream: asyncio.StreamReader, text: str) -> list[str]:
    seen: list[str] = []
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError(f"output ended before {text!r}: {seen}")
        seen.append(line)
        if text in line:
            return seen


async def test_run_answers_command_requests_until_stopped(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOORSTROOM_")},
        "DOORSTROOM_NATS_URL": nats_server.url,
        "DOORSTROOM_DATA_DIR": str(tmp_path / "var"),
    }
    proc = await asyncio.create_subprocess_exec(
        *DOORSTROOM, "run", "--no-demo", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stderr is not None
    try:
        await asyncio.wait_for(_until_line(proc.stderr, "answering commands"), 60)
        nc = await nats.connect(nats_server.url)
        try:
            command = Case().cmd(ReceiveAidRequest)
            reply = await nc.request(
                f"ds.cmd.31004.{command.command_name}",
                command.model_dump_json().encode(),
                headers={USER_HEADER: "u-1", ROLE_HEADER: "social_worker"},
                timeout=10,
            )
        finally:
            await nc.close()
        answer = orjson.loads(reply.data)
        assert (answer["status"], answer["case_version"]) == ("accepted", 1)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 60) == 0


@pytest.mark.slow
async def test_run_on_the_embedded_defaults_fills_the_demo_then_answers(tmp_path: Path) -> None:
    """The README's main job: an empty embedded stream gets the demo offices, once."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOORSTROOM_")},
        "DOORSTROOM_DATA_DIR": str(tmp_path / "var"),
    }
    for run in ("first", "second"):
        proc = await asyncio.create_subprocess_exec(
            *DOORSTROOM, "run", env=env, stderr=asyncio.subprocess.PIPE
        )
        assert proc.stderr is not None
        try:
            seen = await asyncio.wait_for(_until_line(proc.stderr, "answering commands"), 300)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 60) == 0
        text = "".join(seen)
        if run == "first":
            assert "embedded nats-server" in text
            assert "demo data: 310 cases (11016: 60, 31004: 140, 34027: 110)" in text
            assert " 0 refused" in text
        else:
            assert "demo data" not in text  # the stream is no longer empty


def test_the_asyncapi_document_lists_every_command_with_its_schema_and_replies() -> None:
    doc = asyncapi_document(Settings())
    assert doc["asyncapi"].startswith("3.")
    commands = {name: ch for name, ch in doc["channels"].items() if name != "CommandReply"}
    assert set(commands) == set(COMMANDS)
    placement = commands["StartPlacement"]
    assert placement["address"] == "ds.cmd.{office}.StartPlacement"
    assert placement["parameters"]["office"]["enum"] == ["11016", "31004", "34027"]
    schemas = doc["components"]["schemas"]
    kbo = schemas["StartPlacement"]["properties"]["employer_kbo"]
    assert kbo["examples"] == ["0207437468"]
    assert kbo["description"]
    assert {"CommandAccepted", "CommandRefused"} <= set(schemas)
    operation = doc["operations"]["StartPlacement"]
    assert operation["action"] == "receive"
    assert operation["reply"]["channel"] == {"$ref": "#/channels/CommandReply"}
    message = doc["components"]["messages"]["StartPlacement:SubscribeMessage"]
    assert message["headers"]["required"] == [USER_HEADER, ROLE_HEADER]


def test_docs_asyncapi_writes_the_document(tmp_path: Path) -> None:
    out = tmp_path / "asyncapi.json"
    result = subprocess.run(
        [*DOORSTROOM, "docs", "asyncapi", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["info"]["title"] == "Doorstroom commands"
    assert "nats-config" in doc["info"]["description"]
