"""Office users from `doorstroom nats-config`: the server itself refuses cross-office publishes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.msg import Msg

from events.subjects import Subjects
from services.embedded import NatsServer
from services.natsconfig import inbox_prefix, render_auth

PASSWORD = "service-secret-for-tests"
OFFICES = ("31004", "11016")


@pytest.fixture
def secured_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NatsServer]:
    monkeypatch.setenv("DOORSTROOM_NATS_PASSWORD", PASSWORD)
    auth = render_auth(OFFICES, tmp_path / "cfg", Subjects())
    with NatsServer(store_dir=tmp_path / "nats", extra_config=auth) as server:
        yield server


def seed_file(tmp_path: Path, office: str) -> str:
    return str(tmp_path / "cfg" / "offices" / f"{office}.nk")


async def test_an_office_publishes_into_its_own_command_space_only(
    secured_server: NatsServer, tmp_path: Path
) -> None:
    service = await nats.connect(secured_server.url, user="doorstroom", password=PASSWORD)
    received: dict[str, list[bytes]] = {office: [] for office in OFFICES}

    async def handler(msg: Msg) -> None:
        office = msg.subject.split(".")[2]
        received[office].append(msg.data)
        await msg.respond(b"accepted:" + msg.data)

    await service.subscribe("ds.cmd.*.>", cb=handler)
    await service.flush()

    violations: list[str] = []

    async def on_error(exc: Exception) -> None:
        violations.append(str(exc))

    office = await nats.connect(
        secured_server.url,
        nkeys_seed=seed_file(tmp_path, "31004"),
        inbox_prefix=inbox_prefix("31004"),
        error_cb=on_error,
    )
    try:
        reply = await office.request("ds.cmd.31004.RegisterPerson", b"own", timeout=5)
        assert reply.data == b"accepted:own"

        await office.publish("ds.cmd.11016.RegisterPerson", b"foreign")
        await office.publish("ds.ev.31004.c.PersonRegistered", b"forged event")
        # A round trip after the refused publishes: the server has handled them by now.
        reply = await office.request("ds.cmd.31004.RegisterPerson", b"after", timeout=5)
        assert reply.data == b"accepted:after"
        assert received["11016"] == []
        assert received["31004"] == [b"own", b"after"]
        assert any("permissions violation" in v.lower() for v in violations), violations
        assert any("ds.cmd.11016" in v for v in violations), violations
    finally:
        await office.close()
        await service.close()


async def test_an_office_cannot_read_another_office_s_replies_or_the_stream(
    secured_server: NatsServer, tmp_path: Path
) -> None:
    violations: list[str] = []
    both_refused = asyncio.Event()

    async def on_error(exc: Exception) -> None:
        violations.append(str(exc))
        if len(violations) >= 2:
            both_refused.set()

    office = await nats.connect(
        secured_server.url,
        nkeys_seed=seed_file(tmp_path, "11016"),
        inbox_prefix=inbox_prefix("11016"),
        error_cb=on_error,
    )
    try:
        await office.subscribe(f"{inbox_prefix('31004')}.>")
        await office.subscribe("ds.ev.>")
        await office.flush()
        await asyncio.wait_for(both_refused.wait(), 10)
        assert all("subscription" in v.lower() for v in violations), violations
    finally:
        await office.close()
