"""`doorstroom import` against a real nats-server: rejects with line numbers, re-runs, crashes."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import orjson
import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from services.commands.aid import ReceiveAidRequest, RegisterPerson
from services.commands.placements import StartPlacement
from services.domain import derived_event_id
from services.embedded import NatsServer
from tests.support.domain import Case
from tests.support.import_lines import histories, line, write

DOORSTROOM = [sys.executable, "-m", "services.cli"]
OFFICE = "31004"
STREAM = "DOORSTROOM"


@pytest.fixture
def env(nats_server: NatsServer, tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTROOM_")}
    return {
        **clean,
        "DOORSTROOM_NATS_URL": nats_server.url,
        "DOORSTROOM_DATA_DIR": str(tmp_path / "var"),
    }


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_server.url)
    yield client
    await client.close()


async def doorstroom(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *DOORSTROOM, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def stored(nc: NATS) -> int:
    return int((await nc.jetstream().stream_info(STREAM)).state.messages)


def totals(output: str) -> dict[str, int]:
    found = re.search(r"read (\d+), stored (\d+), already stored (\d+), rejected (\d+)", output)
    assert found is not None, output
    keys = ("read", "stored", "already", "rejected")
    return dict(zip(keys, map(int, found.groups()), strict=True))


def with_bad_lines() -> tuple[list[bytes], dict[int, str], int]:
    """Three good histories with bad lines among them: (lines, {line number: code}, events)."""
    good = [line(c) for c in histories(3)]
    lonely = Case()
    bad_person = orjson.loads(line(Case().cmd(RegisterPerson)))
    bad_person["body"]["national_number"] = "85073003329"
    no_actor = orjson.loads(line(Case().cmd(ReceiveAidRequest)))
    del no_actor["actor"]
    bad = {
        3: (b"{not json", "invalid_line"),
        8: (
            line(lonely.cmd(ReceiveAidRequest)).replace(b"ReceiveAidRequest", b"ReceiveAid"),
            "unknown_command",
        ),
        12: (orjson.dumps(bad_person), "invalid_command"),
        20: (orjson.dumps(no_actor), "missing_actor"),
        25: (line(lonely.cmd(StartPlacement)), "no_open_trajectory"),
    }
    lines = list(good)
    lines.insert(0, line(lonely.cmd(ReceiveAidRequest)))
    for number in sorted(bad):
        lines.insert(number - 1, bad[number][0])
    return lines, {n: code for n, (_, code) in bad.items()}, len(good) + 1


WORKERS = pytest.mark.parametrize("workers", ["1", "2"])
"""One process, and the lines spread over two worker processes by case."""


@WORKERS
async def test_refused_lines_are_reported_with_line_number_and_reason_and_kept_aside(
    env: dict[str, str], nc: NATS, tmp_path: Path, workers: str
) -> None:
    lines, refused, events = with_bad_lines()
    file = write(tmp_path / "cases.jsonl", lines)
    args = ("import", str(file), "--office", OFFICE, "--workers", workers, "--chunk-lines", "4")
    code, out, err = await doorstroom(env, *args)
    assert code == 1, err
    assert totals(out) == {"read": 36, "stored": events, "already": 0, "rejected": 5}
    for number, reason in refused.items():
        assert re.search(rf"^line {number}: {reason}\b", out, re.MULTILINE), out
    rejects = [
        orjson.loads(r) for r in (tmp_path / "cases.rejects.jsonl").read_bytes().splitlines()
    ]
    assert {r["line"]: r["code"] for r in rejects} == refused
    for reject in rejects:
        assert reject["original"].encode() == lines[reject["line"] - 1]
        assert reject["message"]
    person = next(r for r in rejects if r["code"] == "invalid_command")
    assert person["field"] == "national_number"
    assert "85073003329" not in person["message"]  # only the original line holds the input
    placement = next(r for r in rejects if r["code"] == "no_open_trajectory")
    assert placement["field"] == "trajectory_id"
    assert await stored(nc) == events
    assert "Traceback" not in out + err


@WORKERS
async def test_running_the_same_file_again_stores_nothing_twice(
    env: dict[str, str], nc: NATS, tmp_path: Path, workers: str
) -> None:
    lines, refused, events = with_bad_lines()
    file = write(tmp_path / "cases.jsonl", lines)
    args = ("import", str(file), "--office", OFFICE, "--workers", workers)
    await doorstroom(env, *args)
    code, out, _ = await doorstroom(env, *args)
    assert code == 1
    assert totals(out) == {"read": 36, "stored": 0, "already": events, "rejected": 5}
    assert await stored(nc) == events
    rejects = (tmp_path / "cases.rejects.jsonl").read_bytes().splitlines()
    assert [orjson.loads(r)["line"] for r in rejects] == sorted(refused)


@WORKERS
async def test_a_case_spread_over_chunks_and_a_default_actor(
    env: dict[str, str], nc: NATS, tmp_path: Path, workers: str
) -> None:
    commands = histories(4, interleaved=False)
    file = write(tmp_path / "plain.jsonl", [line(c, actor=None) for c in commands])
    args = ("import", str(file), "--office", OFFICE, "--chunk-lines", "3", "--workers", workers)
    code, out, err = await doorstroom(env, *args, "--user", "migratie", "--role", "office_system")
    assert code == 0, out + err
    assert totals(out)["stored"] == len(commands)
    assert await stored(nc) == len(commands)


@pytest.mark.slow
@WORKERS
async def test_an_import_killed_midway_stores_every_line_exactly_once_after_a_rerun(
    env: dict[str, str], nc: NATS, tmp_path: Path, workers: str
) -> None:
    commands = histories(1000)
    file = write(tmp_path / "big.jsonl", [line(c) for c in commands])
    expected = {str(derived_event_id(c.command_id, 0)) for c in commands}
    assert (await doorstroom(env, "stream", "provision"))[0] == 0

    seen: list[str] = []
    some, everything = asyncio.Event(), asyncio.Event()

    async def on_stored(msg: Msg) -> None:
        seen.append((msg.headers or {})["Nats-Msg-Id"])
        if len(seen) >= 300:
            some.set()
        if len(seen) >= len(expected):
            everything.set()

    await nc.jetstream().subscribe(
        "ds.ev.>", stream=STREAM, cb=on_stored, ordered_consumer=True, headers_only=True
    )
    args = ("import", str(file), "--office", OFFICE, "--chunk-lines", "500", "--workers", workers)
    first = await asyncio.create_subprocess_exec(
        *DOORSTROOM, *args, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    await asyncio.wait_for(some.wait(), 300)  # some lines are stored
    first.kill()  # kill -9, midway
    await first.wait()
    assert await stored(nc) < len(expected)

    code, out, err = await doorstroom(env, *args)
    assert code == 0, out + err
    again = totals(out)
    assert again["read"] == len(expected)
    assert again["stored"] + again["already"] == len(expected)
    assert again["stored"] > 0
    assert again["already"] >= 300
    await asyncio.wait_for(everything.wait(), 300)
    assert await stored(nc) == len(expected)
    assert len(seen) == len(expected)
    assert set(seen) == expected
