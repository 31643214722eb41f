"""Garbage in, a problem out: random requests never cause a 5xx, every refusal is
problem+json that does not repeat what was sent, and a refused request stores nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from events.base import Role
from services import access
from services.commands import COMMANDS
from services.commands.aid import ReceiveAidRequest, RegisterPerson
from services.commands.guidance import StartTrajectory
from services.commands.rights import GrantLeefloon
from services.embedded import NatsServer
from services.http.problems import MEDIA_TYPE
from tests.fixtures.examples import PERSON, example_body
from tests.support.api import ApiStack, api_stack
from tests.support.domain import DAY, GRANT, OFFICE, OTHER_OFFICE, TRAJECTORY, Case

SENTINEL = "Zz geheim"
"""Put into strings and keys; it holds a space, so no id, code or date can carry it and any
echo in a refusal would be of free text or personal data."""

MAIN_CASE = uuid.UUID("00000000-0000-4000-8000-00000000a001")
OTHER_CASE = uuid.UUID("00000000-0000-4000-8000-00000000b002")
NAMES = sorted(COMMANDS)


@dataclass
class Garbage:
    """The API with a case of our office (in a trajectory) and one of another office."""

    stack: ApiStack
    tokens: dict[str, dict[str, str]]


@pytest.fixture
async def garbage(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Garbage]:
    async with api_stack(nats_server.url, tmp_path) as stack:
        for case_id, office in ((MAIN_CASE, OFFICE), (OTHER_CASE, OTHER_OFFICE)):
            case = Case(case_id)
            grant = {"decision_id": GRANT, "effective_until": None}
            commands = [
                case.cmd(ReceiveAidRequest),
                case.cmd(RegisterPerson),
                case.cmd(GrantLeefloon, **grant),
                case.cmd(StartTrajectory, trajectory_id=TRAJECTORY),
            ]
            await stack.ok(*commands, headers=stack.auth(office=office))
        revoked = stack.issue()
        stack.api.tokens.revoke(revoked.token_id, datetime.now(UTC))
        tokens = {
            "social_worker": stack.auth(),
            "counsellor": stack.auth(Role.TRAJECTORY_COUNSELLOR),
            "finance": stack.auth(Role.FINANCE),
            "inspector": stack.auth(Role.INSPECTOR),
            "dpo": stack.auth(Role.DPO),
            "other_office": stack.auth(office=OTHER_OFFICE),
            "unknown_office": stack.auth(office="99999"),
            "revoked": {"Authorization": f"Bearer {revoked.token}"},
            "none": {},
            "garbage": {"Authorization": f"Bearer dst_{SENTINEL}"},
        }
        yield Garbage(stack, tokens)


# --- strategies --------------------------------------------------------------------------

text = st.text(max_size=30)
secret_text = st.builds(lambda t: SENTINEL + t, text)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | text
    | secret_text
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(text | secret_text, inner, max_size=4)
    ),
    max_leaves=10,
)


def _future(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


nasty = st.one_of(
    json_values,
    secret_text,
    st.builds(lambda n: SENTINEL * n, st.sampled_from([2_000, 20_000])),  # huge strings
    st.builds(_future, st.integers(min_value=1, max_value=40_000)),  # dates in the future
    st.sampled_from(["1899-12-31", "2000-02-30", "0001-01-01", "9999-12-31", "2025-3-3"]),
    st.sampled_from([-1, -(10**12), 10**12, 2**63, 10**30, 1.5, 1e308, "131420", True]),
    st.sampled_from([str(uuid.uuid4()), str(OTHER_CASE), str(MAIN_CASE), "", "null"]),
    st.sampled_from([OFFICE, OTHER_OFFICE, "99999", "3100", SENTINEL]),
)


@st.composite
def mutated_body(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """A valid body of ``name`` for the main case, changed in up to three places."""
    body = example_body(
        COMMANDS[name],
        command_id=str(draw(st.uuids())),
        case_id=str(MAIN_CASE),
        occurred_on=DAY.isoformat(),
        evidence=[],
    )
    if "person_ref" in body:
        body["person_ref"] = str(PERSON)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        how = draw(st.sampled_from(["set", "set", "drop", "extra", "case"]))
        keys = sorted(body)
        if how == "set" and keys:
            body[draw(st.sampled_from(keys))] = draw(nasty)
        elif how == "drop" and keys:
            body.pop(draw(st.sampled_from(keys)))
        elif how == "extra":
            key = draw(
                st.sampled_from(["office_id", "actor", "recorded_at", "event_id"])
                | text
                | secret_text
            )
            body[key] = draw(nasty)
        else:
            body["case_id"] = str(draw(st.sampled_from([OTHER_CASE, uuid.uuid5(MAIN_CASE, "x")])))
    return body


SENDERS = {"social_worker": Role.SOCIAL_WORKER, "counsellor": Role.TRAJECTORY_COUNSELLOR}
SENDERS |= {"finance": Role.FINANCE, "dpo": Role.DPO}
ANY_TOKEN = st.sampled_from([*SENDERS, "inspector", "other_office", "revoked", "none", "garbage"])


@st.composite
def command_requests(draw: st.DrawFn) -> tuple[str, str, Any]:
    """(token name, command name, JSON body): mostly a known command, sent by a role that
    may send it, with a valid body bent in up to three places."""
    name = draw(st.sampled_from(NAMES)) if draw(st.integers(0, 9)) else draw(text | secret_text)
    allowed = [t for t, role in SENDERS.items() if name in COMMANDS and access.may_send(role, name)]
    if allowed and draw(st.integers(0, 3)) > 0:
        token = draw(st.sampled_from(allowed))
    else:
        token = draw(ANY_TOKEN)
    if name in COMMANDS and draw(st.integers(0, 4)):
        return token, name, draw(mutated_body(name))
    return token, name, draw(json_values)


raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda v: json.dumps(v).encode()[:-1], json_values),  # cut short
    st.sampled_from([b"", b"null", b"[]", b'{"case_id": NaN}', b"\xff\xfe{}", b'{"a":1}' * 3]),
)


# --- checks ------------------------------------------------------------------------------


async def check(garbage: Garbage, method: str, path: str, token: str, **kw: Any) -> None:
    """Send one request and check the answer, and that a refusal stored nothing."""
    stack = garbage.stack
    before = await stack.messages()
    response = await stack.client.request(method, path, headers=garbage.tokens[token], **kw)
    assert response.status_code < 500, response.text
    event(f"{response.status_code} {response.json().get('code', '') if response.content else ''}")
    if response.status_code < 400:
        return
    assert response.headers["content-type"] == MEDIA_TYPE, response.text
    body = response.json()
    assert body["status"] == response.status_code
    assert body["type"] == "urn:doorstroom:problem:" + body["code"]
    assert body["title"]
    assert body["detail"]
    assert SENTINEL not in response.text
    assert "Traceback" not in response.text
    assert await stack.messages() == before


RANDOM = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@RANDOM
@given(request=command_requests())
async def test_random_command_requests_are_answered_without_5xx_and_refusals_store_nothing(
    garbage: Garbage, request: tuple[str, str, Any]
) -> None:
    token, name, body = request
    await check(garbage, "POST", f"/commands/{quote(name, safe='')}", token, json=body)


@settings(RANDOM, max_examples=50)
@given(
    token=st.sampled_from(["social_worker", "inspector", "other_office", "revoked", "none"]),
    name=st.sampled_from(NAMES),
    raw=raw_bodies,
)
async def test_bodies_that_are_not_a_json_object_are_refused_as_problems(
    garbage: Garbage, token: str, name: str, raw: bytes
) -> None:
    await check(garbage, "POST", f"/commands/{name}", token, content=raw)


@settings(RANDOM, max_examples=50)
@given(
    token=st.sampled_from(
        ["social_worker", "inspector", "finance", "other_office", "unknown_office", "garbage"]
    ),
    case=st.one_of(
        st.uuids().map(str),
        st.sampled_from([str(MAIN_CASE), str(OTHER_CASE), "..", "%00", SENTINEL]),
        text,
    ),
)
async def test_timeline_reads_of_any_case_id_never_fail_or_write(
    garbage: Garbage, token: str, case: str
) -> None:
    await check(garbage, "GET", f"/cases/{quote(case, safe='')}/timeline", token)


@pytest.mark.slow
@settings(RANDOM, max_examples=400)
@given(request=command_requests())
async def test_many_more_random_command_requests(
    garbage: Garbage, request: tuple[str, str, Any]
) -> None:
    token, name, body = request
    await check(garbage, "POST", f"/commands/{quote(name, safe='')}", token, json=body)
