"""The HTTP API end to end: commands onto a real stream, timelines back, offices and roles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from events.base import Role
from services.app import Application, Authorize, Handled
from services.commands import COMMANDS, Command
from services.commands.aid import ReceiveAidRequest, RegisterPerson
from services.commands.guidance import AssignCounselor, StartTrajectory, UnassignCounselor
from services.commands.outflow import VerifyEmployment
from services.commands.placements import StartPlacement
from services.commands.privacy import ErasePersonData, RequestErasure
from services.commands.rights import GrantLeefloon
from services.domain import Context
from services.embedded import NatsServer
from tests.fixtures.examples import PERSON
from tests.support.api import ApiStack, Interrupted, api_stack, problem
from tests.support.domain import GRANT, OFFICE, OTHER_OFFICE, TRAJECTORY, Case, context


@pytest.fixture
async def stack(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[ApiStack]:
    async with api_stack(nats_server.url, tmp_path) as s:
        yield s


def opening(case: Case) -> list[Command]:
    grant = {"decision_id": GRANT, "effective_until": None}
    return [case.cmd(ReceiveAidRequest), case.cmd(RegisterPerson), case.cmd(GrantLeefloon, **grant)]


async def opened(stack: ApiStack) -> Case:
    case = Case()
    await stack.ok(*opening(case), headers=stack.auth())
    return case


def head(stack: ApiStack) -> dict[str, str]:
    return stack.auth(Role.HEAD_OF_SERVICE, user="u-head")


def assignment(case: Case, role: Role, user: str, *, assign: bool = True) -> Command:
    if assign:
        return case.cmd(AssignCounselor, role=role.value, counselor_user_id=user)
    return case.cmd(UnassignCounselor, role=role.value, counselor_user_id=user)


async def test_a_command_lands_on_the_stream_with_the_callers_office_and_actor(
    stack: ApiStack,
) -> None:
    case = Case()
    headers = stack.auth(Role.SOCIAL_WORKER, user="u-7")
    answers = await stack.ok(*opening(case), headers=headers)
    stored = await stack.store.read_case(case.case_id)
    assert [r.name for r in stored] == ["AidRequestReceived", "PersonRegistered", "LeefloonGranted"]
    last = answers[-1]
    assert (last["command"], last["case_id"]) == ("GrantLeefloon", str(case.case_id))
    assert (last["case_version"], last["last_seq"]) == (3, stored[-1].seq)
    assert last["event_ids"] == [str(stored[-1].meta.event_id)]
    assert last["duplicate"] is False
    for rec in stored:
        assert rec.meta.office_id == OFFICE
        assert (rec.meta.actor.user_id, rec.meta.actor.role) == ("u-7", Role.SOCIAL_WORKER)


async def test_the_timeline_shows_the_events_in_order_with_personal_data_for_the_social_worker(
    stack: ApiStack,
) -> None:
    case = await opened(stack)
    response = await stack.timeline(case.case_id, headers=stack.auth(Role.SOCIAL_WORKER))
    assert response.status_code == 200, response.text
    timeline = response.json()
    assert (timeline["case_id"], timeline["office_id"], timeline["version"]) == (
        str(case.case_id),
        OFFICE,
        3,
    )
    assert timeline["personal_data_shown"] is True
    events = timeline["events"]
    assert [e["type"] for e in events] == [
        "AidRequestReceived",
        "PersonRegistered",
        "LeefloonGranted",
    ]
    assert [e["case_version"] for e in events] == [1, 2, 3]
    assert events[0]["seq"] < events[1]["seq"] < events[2]["seq"]
    registered = events[1]
    assert registered["stored_type"] == "PersonRegistered.v1"
    assert registered["personal_data"] == "revealed"
    assert registered["data"]["family_name"] == "Peeters"
    assert registered["person_ref"] == str(PERSON)
    assert registered["actor"] == {"user_id": "u-1042", "role": "social_worker"}
    assert registered["prev_hash"] == events[0]["hash"]
    assert events[0]["personal_data"] == "none"
    assert {"occurred_on", "recorded_at", "evidence", "legal_basis", "correlation_id"} <= set(
        registered
    )


@pytest.mark.parametrize(
    "role", [Role.INSPECTOR, Role.FINANCE, Role.DPO, Role.GROUP_LEADER, Role.OFFICE_SYSTEM]
)
async def test_roles_that_do_not_need_personal_data_read_the_timeline_without_it(
    stack: ApiStack, role: Role
) -> None:
    case = await opened(stack)
    response = await stack.timeline(case.case_id, headers=stack.auth(role))
    assert response.status_code == 200, response.text
    assert "Peeters" not in response.text
    assert "85073003328" not in response.text
    timeline = response.json()
    assert timeline["personal_data_shown"] is False
    registered = timeline["events"][1]
    assert registered["personal_data"] == "withheld"
    assert "family_name" not in registered["data"]
    assert registered["person_ref"] == str(PERSON)


async def test_another_offices_case_does_not_exist_for_reading_or_writing(stack: ApiStack) -> None:
    case = await opened(stack)
    other = stack.auth(Role.SOCIAL_WORKER, office=OTHER_OFFICE)
    before = await stack.messages()
    read = problem(await stack.timeline(case.case_id, headers=other), 404, "case_not_found")
    write = problem(
        await stack.send(case.cmd(StartTrajectory), headers=other), 404, "case_not_found"
    )
    unknown = problem(await stack.timeline(uuid4(), headers=stack.auth()), 404, "case_not_found")
    assert read["field"] == write["field"] == unknown["field"] == "case_id"
    assert read["title"] == write["title"] == unknown["title"]
    assert await stack.messages() == before
    not_a_uuid = await stack.timeline("not-a-case", headers=stack.auth())
    problem(not_a_uuid, 404, "case_not_found")


async def test_an_inspector_cannot_write(stack: ApiStack) -> None:
    case = await opened(stack)
    inspector = stack.auth(Role.INSPECTOR)
    before = await stack.messages()
    for command in (case.cmd(StartTrajectory), Case().cmd(ReceiveAidRequest)):
        body = problem(await stack.send(command, headers=inspector), 403, "forbidden_for_role")
        assert "inspector" in body["detail"]
    assert await stack.messages() == before


async def test_each_role_sends_only_the_commands_of_its_policy(stack: ApiStack) -> None:
    case = await opened(stack)
    await stack.ok(case.cmd(RequestErasure), headers=stack.auth(Role.SOCIAL_WORKER))
    erase = case.cmd(ErasePersonData)
    problem(
        await stack.send(erase, headers=stack.auth(Role.SOCIAL_WORKER)), 403, "forbidden_for_role"
    )
    problem(
        await stack.send(case.cmd(StartTrajectory), headers=stack.auth(Role.FINANCE)),
        403,
        "forbidden_for_role",
    )
    problem(
        await stack.send(case.cmd(GrantLeefloon), headers=stack.auth(Role.JOB_COACH)),
        403,
        "forbidden_for_role",
    )
    counsellor = stack.auth(Role.TRAJECTORY_COUNSELLOR, user="u-3001")
    await stack.ok(assignment(case, Role.TRAJECTORY_COUNSELLOR, "u-3001"), headers=head(stack))
    await stack.ok(case.cmd(StartTrajectory), headers=counsellor)
    await stack.ok(erase, headers=stack.auth(Role.DPO))


async def test_after_erasure_the_timeline_shows_the_personal_fields_as_erased(
    stack: ApiStack,
) -> None:
    case = await opened(stack)
    await stack.ok(case.cmd(RequestErasure), headers=stack.auth())
    await stack.ok(case.cmd(ErasePersonData), headers=stack.auth(Role.DPO))
    response = await stack.timeline(case.case_id, headers=stack.auth(Role.SOCIAL_WORKER))
    assert "Peeters" not in response.text
    events = response.json()["events"]
    assert events[1]["personal_data"] == "erased"
    assert events[1]["data"]["family_name"] is None
    assert events[-1]["type"] == "PersonDataErased"
    assert events[-1]["data"]["key_destroyed"] is True


async def test_the_office_comes_from_the_token_and_cannot_be_named_in_the_body(
    stack: ApiStack,
) -> None:
    body = Case().cmd(ReceiveAidRequest).model_dump(mode="json")
    before = await stack.messages()
    response = await stack.send(
        "ReceiveAidRequest", {**body, "office_id": OTHER_OFFICE}, headers=stack.auth()
    )
    refused = problem(response, 422, "validation_error")
    assert refused["field"] == "office_id"
    assert refused["errors"][0]["type"] == "extra_forbidden"
    assert await stack.messages() == before


async def test_a_retried_command_answers_as_before_and_stores_nothing(stack: ApiStack) -> None:
    command = Case().cmd(ReceiveAidRequest)
    first, again = await stack.ok(command, command, headers=stack.auth())
    assert again == {**first, "duplicate": True}
    assert await stack.messages() == 1


async def test_requests_without_a_valid_token_are_401(stack: ApiStack) -> None:
    case = await opened(stack)
    revoked = stack.issue()
    assert stack.api.tokens.revoke(revoked.token_id, datetime.now(UTC))
    expired = stack.api.tokens.issue(
        user_id="u-1",
        office_id=OFFICE,
        role=Role.SOCIAL_WORKER,
        now=datetime.now(UTC) - timedelta(days=2),
        expires_at=datetime.now(UTC) - timedelta(days=1),
    )
    refusals = [
        {},
        {"Authorization": "Bearer dst_not-a-token"},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": f"Bearer {revoked.token}"},
        {"Authorization": f"Bearer {expired.token}"},
        {"Authorization": f"Bearer {'x' * 10_000}"},
    ]
    before = await stack.messages()
    for headers in refusals:
        read = await stack.timeline(case.case_id, headers=headers)
        write = await stack.send(case.cmd(StartTrajectory), headers=headers)
        for response in (read, write):
            problem(response, 401, "unauthenticated")
            assert response.headers["www-authenticate"].startswith("Bearer")
    assert await stack.messages() == before


async def test_refusals_are_problem_documents_with_code_and_field(stack: ApiStack) -> None:
    case = await opened(stack)
    sw = stack.auth()
    before = await stack.messages()
    unknown = problem(await stack.send("StartTrajectroy", {}, headers=sw), 404, "unknown_command")
    assert "StartTrajectory" in unknown["detail"]
    malformed = await stack.client.post(
        "/commands/StartTrajectory", content=b'{"case_id": ', headers=sw
    )
    problem(malformed, 400, "malformed_json")
    body = case.cmd(StartTrajectory).model_dump(mode="json")
    invalid = problem(
        await stack.send("StartTrajectory", {**body, "kind": 7, "occurred_on": "soon"}, headers=sw),
        422,
        "validation_error",
    )
    assert {e["field"] for e in invalid["errors"]} == {"kind", "occurred_on"}
    refused = problem(
        await stack.send(case.cmd(StartPlacement), headers=sw), 409, "no_open_trajectory"
    )
    assert refused["field"] == "trajectory_id"
    future = (datetime.now(UTC) + timedelta(days=3)).date()
    late = problem(
        await stack.send(case.cmd(StartTrajectory, occurred_on=future), headers=sw),
        409,
        "occurred_in_future",
    )
    assert late["field"] == "occurred_on"
    too_large = await stack.client.post(
        "/commands/StartTrajectory", content=b" " * (stack.api.max_body + 1), headers=sw
    )
    problem(too_large, 413, "body_too_large")
    as_text = await stack.client.post(
        "/commands/StartTrajectory", content=b"{}", headers={**sw, "Content-Type": "text/plain"}
    )
    problem(as_text, 415, "unsupported_media_type")
    problem(
        await stack.client.get("/commands/StartTrajectory", headers=sw), 405, "method_not_allowed"
    )
    problem(await stack.client.get("/nowhere", headers=sw), 404, "not_found")
    assert await stack.messages() == before


async def test_validation_problems_name_the_fields_but_never_echo_the_values(
    stack: ApiStack,
) -> None:
    case = await opened(stack)
    body = case.cmd(RegisterPerson).model_dump(mode="json")
    secret = "Vandenbroucke Geheim"
    body.update(
        national_number=secret,
        family_name=secret * 10,
        address={**body["address"], "postal_code": secret},
        person_ref=secret,
    )
    body[secret] = secret
    response = await stack.send("RegisterPerson", body, headers=stack.auth())
    refused = problem(response, 422, "validation_error")
    assert secret not in response.text
    assert "Vandenbroucke" not in response.text
    fields = {e["field"] for e in refused["errors"]}
    assert {"national_number", "family_name", "address.postal_code", "person_ref"} <= fields
    assert "<redacted>" in fields  # the unknown key is not repeated either


async def test_a_write_that_loses_the_race_twice_is_a_409(stack: ApiStack) -> None:
    case = await opened(stack)

    def intrude() -> Awaitable[Handled]:
        return stack.api.application.handle(case.cmd(VerifyEmployment), context())

    racing = stack.with_application(Application(Interrupted(stack.store, [intrude, intrude])))
    before = await stack.messages()
    async with racing.client:
        command = case.cmd(StartTrajectory, trajectory_id=TRAJECTORY)
        response = await racing.send(command, headers=stack.auth())
    body = problem(response, 409, "concurrent_write")
    assert body["field"] == "case_id"
    assert await stack.messages() == before + 2  # only the two intruders' events


async def test_an_unexpected_error_is_a_bare_500_problem(stack: ApiStack) -> None:
    class Broken(Application):
        async def handle(
            self, command: Command, ctx: Context, *, authorize: Authorize | None = None
        ) -> Handled:
            raise RuntimeError("Peeters traceback detail")

    broken = stack.with_application(Broken(stack.api.application.cases))
    async with broken.client:
        response = await broken.send(Case().cmd(ReceiveAidRequest), headers=stack.auth())
    body = problem(response, 500, "internal_error")
    assert "Peeters" not in response.text
    assert "Traceback" not in response.text
    assert "incident" in body["detail"]


async def test_health_and_openapi_need_no_token(stack: ApiStack) -> None:
    health = await stack.client.get("/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    spec = (await stack.client.get("/openapi.json")).json()
    for name in COMMANDS:
        operation = spec["paths"][f"/commands/{name}"]["post"]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.rsplit("/", 1)[-1] in spec["components"]["schemas"]
        assert "application/problem+json" in operation["responses"]["422"]["content"]
    assert "/cases/{case_id}/timeline" in spec["paths"]
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    assert spec["components"]["schemas"]["RegisterPerson"]["properties"]["family_name"][
        "x-personal"
    ]


async def test_a_token_of_an_office_this_installation_does_not_know_writes_nothing(
    stack: ApiStack,
) -> None:
    stranger = stack.auth(Role.SOCIAL_WORKER, office="99999")
    before = await stack.messages()
    response = await stack.send(Case().cmd(ReceiveAidRequest), headers=stranger)
    problem(response, 403, "unknown_office")
    assert await stack.messages() == before
