"""Commands over NATS request/reply against a real nats-server: events, refusals, isolation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import nats
import orjson
import pytest
from nats.aio.client import Client as NATS
from nats.errors import TimeoutError as NatsTimeoutError

from events.base import Role
from events.envelope import Actor
from events.subjects import Subjects
from services.commands import Command
from services.commands.aid import ReceiveAidRequest, RegisterPerson
from services.commands.guidance import AssignCounselor, RecordVdabRegistration, StartTrajectory
from services.commands.placements import StartPlacement
from services.domain import derived_event_id
from services.embedded import NatsServer
from services.nats_entry import CORRELATION_HEADER, ROLE_HEADER, USER_HEADER, serving_commands
from services.natsconfig import inbox_prefix, render_auth
from services.runtime import Runtime, build_application, open_runtime
from services.settings import Settings
from tests.support.domain import Case

OFFICE = "31004"
OTHER = "11016"
ACTOR = {USER_HEADER: "u-2077", ROLE_HEADER: "social_worker"}
PASSWORD = "service-secret-for-tests"


@asynccontextmanager
async def command_service(settings: Settings) -> AsyncIterator[Runtime]:
    """The runtime and the command subscribers, as ``doorstroom run`` starts them."""
    assert settings.nats_url is not None
    async with (
        open_runtime(settings) as rt,
        serving_commands(await build_application(rt), settings, settings.nats_url),
    ):
        yield rt


@pytest.fixture
async def service(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Runtime]:
    async with command_service(Settings(nats_url=nats_server.url, data_dir=tmp_path)) as rt:
        yield rt


@pytest.fixture
async def client(nats_server: NatsServer) -> AsyncIterator[NATS]:
    nc = await nats.connect(nats_server.url)
    yield nc
    await nc.close()


def subject(office: str, command: Command | str) -> str:
    name = command if isinstance(command, str) else command.command_name
    return Subjects().command(office, name)


async def send(
    nc: NATS,
    command: Command,
    office: str = OFFICE,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10,
) -> dict[str, Any]:
    payload = command.model_dump_json().encode() if body is None else body
    headers = ACTOR if headers is None else headers
    reply = await nc.request(subject(office, command), payload, headers=headers, timeout=timeout)
    answer: dict[str, Any] = orjson.loads(reply.data)
    return answer


async def test_a_command_over_nats_becomes_events_with_their_envelope(
    service: Runtime, client: NATS
) -> None:
    case = Case()
    receive, register = case.cmd(ReceiveAidRequest), case.cmd(RegisterPerson)
    process = uuid.uuid4()
    first = await send(client, receive, headers={**ACTOR, CORRELATION_HEADER: str(process)})
    second = await send(client, register)
    stored = await service.store.read_case(case.case_id, reveal=True)
    assert [r.name for r in stored] == ["AidRequestReceived", "PersonRegistered"]
    assert first == {
        "status": "accepted",
        "command_id": str(receive.command_id),
        "case_id": str(case.case_id),
        "case_version": 1,
        "stream_seq": stored[0].seq,
        "event_ids": [str(derived_event_id(receive.command_id, 0))],
        "duplicate": False,
    }
    assert (second["case_version"], second["stream_seq"]) == (2, stored[1].seq)
    meta = stored[0].meta
    assert meta.office_id == OFFICE  # from the subject: the body has no office
    assert meta.actor == Actor(user_id="u-2077", role=Role.SOCIAL_WORKER)
    assert (meta.correlation_id, meta.causation_id) == (process, receive.command_id)
    assert meta.event_id == derived_event_id(receive.command_id, 0)
    assert stored[1].meta.correlation_id == register.command_id
    assert stored[1].event.family_name == register.family_name  # type: ignore[attr-defined]


async def test_the_same_command_sent_again_stores_nothing_and_answers_as_before(
    service: Runtime, client: NATS
) -> None:
    receive = Case().cmd(ReceiveAidRequest)
    first = await send(client, receive)
    again = await send(client, receive)
    assert again == {**first, "duplicate": True}
    assert await service.store.last_seq() == first["stream_seq"]


async def test_a_rule_refusal_is_a_reply_with_code_message_and_field(
    service: Runtime, client: NATS
) -> None:
    case = Case()
    await send(client, case.cmd(ReceiveAidRequest))
    before = await service.store.last_seq()
    placement = case.cmd(StartPlacement)
    refused = await send(client, placement)
    assert refused["status"] == "refused"
    assert refused["command_id"] == str(placement.command_id)
    assert (refused["code"], refused["field"]) == ("no_open_trajectory", "trajectory_id")
    assert "trajectory" in refused["message"]
    assert await service.store.last_seq() == before


async def test_an_invalid_body_is_refused_without_echoing_what_was_sent(
    service: Runtime, client: NATS
) -> None:
    case = Case()
    body = orjson.loads(case.cmd(RegisterPerson).model_dump_json())
    body["national_number"] = "85073003329"  # check digits wrong
    body["given_names"] = "Geheime-Voornaam-" + "x" * 100  # too long
    raw = await client.request(
        subject(OFFICE, "RegisterPerson"), orjson.dumps(body), headers=ACTOR, timeout=10
    )
    refused = orjson.loads(raw.data)
    assert (refused["status"], refused["code"]) == ("refused", "invalid_command")
    assert {p["field"] for p in refused["problems"]} == {"national_number", "given_names"}
    assert refused["field"] in {"national_number", "given_names"}
    for secret in (b"85073003329", b"Geheime", b"Peeters", b"Traceback"):
        assert secret not in raw.data
    assert await service.store.read_case(case.case_id) == []


async def test_malformed_requests_are_refused_never_crash(service: Runtime, client: NATS) -> None:
    receive = Case().cmd(ReceiveAidRequest)
    not_json = await send(client, receive, body=b"{not json")
    assert not_json["code"] == "invalid_command"
    no_actor = await send(client, receive, headers={})
    assert (no_actor["code"], no_actor["field"]) == ("missing_actor", USER_HEADER)
    bad_role = await send(client, receive, headers={**ACTOR, ROLE_HEADER: "mayor"})
    assert (bad_role["code"], bad_role["field"]) == ("invalid_actor", ROLE_HEADER)
    unknown = await send(client, receive, office="99999")
    assert unknown["code"] == "unknown_office"
    assert await service.store.read_case(receive.case_id) == []
    still = await send(client, receive)  # the service still answers
    assert still["status"] == "accepted"


async def test_a_role_sends_only_the_commands_of_its_policy_over_nats(
    service: Runtime, client: NATS
) -> None:
    receive = Case().cmd(ReceiveAidRequest)
    refused = await send(client, receive, headers={**ACTOR, ROLE_HEADER: "finance"})
    assert (refused["status"], refused["code"]) == ("refused", "forbidden_for_role")
    assert refused["field"] == ROLE_HEADER
    assert "finance may not send ReceiveAidRequest" in refused["message"]
    assert await service.store.read_case(receive.case_id) == []


@pytest.fixture
def secured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> NatsServer:
    monkeypatch.setenv("DOORSTROOM_NATS_PASSWORD", PASSWORD)
    auth = render_auth((OFFICE, OTHER), tmp_path / "cfg", Subjects())
    return NatsServer(store_dir=tmp_path / "nats", extra_config=auth)


@asynccontextmanager
async def office_client(
    server: NatsServer, tmp_path: Path, office: str
) -> AsyncIterator[tuple[NATS, asyncio.Queue[str]]]:
    """An office system connected as its NKey user, and the errors the server reports."""
    violations = asyncio.Queue[str]()

    async def on_error(exc: Exception) -> None:
        await violations.put(str(exc))

    nc = await nats.connect(
        server.url,
        nkeys_seed=str(tmp_path / "cfg" / "offices" / f"{office}.nk"),
        inbox_prefix=inbox_prefix(office),
        error_cb=on_error,
    )
    try:
        yield nc, violations
    finally:
        await nc.close()


async def test_an_office_user_cannot_send_commands_for_another_office(
    secured: NatsServer, tmp_path: Path
) -> None:
    settings = Settings(
        nats_url=secured.url, nats_user="doorstroom", data_dir=tmp_path / "var"
    )  # the password comes from DOORSTROOM_NATS_PASSWORD, as in production
    with secured:
        async with (
            command_service(settings) as rt,
            office_client(secured, tmp_path, OFFICE) as (blankenberge, refused_publishes),
            office_client(secured, tmp_path, OTHER) as (essen, _),
        ):
            own = Case()
            accepted = await send(blankenberge, own.cmd(ReceiveAidRequest))
            assert accepted["status"] == "accepted"

            # The server refuses the publish itself: no reply can ever come.
            foreign = Case()
            with pytest.raises(NatsTimeoutError):
                await send(blankenberge, foreign.cmd(ReceiveAidRequest), office=OTHER, timeout=1)
            violation = await asyncio.wait_for(refused_publishes.get(), 10)
            assert "permissions violation" in violation.lower()
            assert f"ds.cmd.{OTHER}." in violation
            assert await rt.store.read_case(foreign.case_id) == []

            # Through its own subjects an office reaches only its own cases.
            theirs = Case()
            assert (await send(essen, theirs.cmd(ReceiveAidRequest), office=OTHER))[
                "status"
            ] == "accepted"
            refused = await send(blankenberge, theirs.cmd(StartTrajectory))
            assert (refused["code"], refused["field"]) == ("case_not_found", "case_id")
            assert [r.meta.office_id for r in await rt.store.read_case(theirs.case_id)] == [OTHER]
            assert [r.meta.office_id for r in await rt.store.read_case(own.case_id)] == [OFFICE]


async def test_a_counsellor_sends_commands_only_for_a_case_assigned_to_them(
    service: Runtime, client: NATS
) -> None:
    case = Case()
    await send(client, case.cmd(ReceiveAidRequest))  # the intake: job coach u-2077
    coach = {USER_HEADER: "u-3003", ROLE_HEADER: "trajectory_counsellor"}
    head = {USER_HEADER: "u-head", ROLE_HEADER: "head_of_service"}
    before = await service.store.last_seq()
    trajectory = case.cmd(StartTrajectory)
    refused = await send(client, trajectory, headers=coach)
    assert (refused["status"], refused["code"]) == ("refused", "not_assigned")
    assign = case.cmd(AssignCounselor, role="trajectory_counsellor", counselor_user_id="u-3003")
    by_coach = await send(client, assign, headers=coach)
    assert (by_coach["status"], by_coach["code"]) == ("refused", "assignment_not_allowed")
    assert await service.store.last_seq() == before

    assert (await send(client, assign, headers=head))["status"] == "accepted"
    assert (await send(client, trajectory, headers=coach))["status"] == "accepted"
    intake_now = await send(client, case.cmd(RecordVdabRegistration))
    assert (intake_now["status"], intake_now["code"]) == ("refused", "not_assigned")
