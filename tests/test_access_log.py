"""The access log: every read of decrypted personal data is kept, and the DPO can list it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from events.base import Role
from services.access_log import AccessLog, PersonalRead
from services.commands.privacy import ErasePersonData, RequestErasure
from services.embedded import NatsServer
from services.settings import Settings
from tests.fixtures.examples import PERSON
from tests.support.api import ApiStack, api_stack, problem
from tests.test_http_api import opened

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def stack(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[ApiStack]:
    async with api_stack(nats_server.url, tmp_path) as s:
        yield s


def a_read(case: uuid.UUID, person: uuid.UUID, user: str = "u-1") -> PersonalRead:
    return PersonalRead(
        read_at=NOW,
        user_id=user,
        role=Role.SOCIAL_WORKER,
        office_id="31004",
        case_id=case,
        purpose="GET /cases/{case_id}/timeline",
        persons=(person,),
        fields=("family_name", "national_number"),
    )


async def test_a_timeline_with_decrypted_fields_is_logged_with_who_what_and_whose(
    stack: ApiStack,
) -> None:
    case = await opened(stack)
    reads = stack.api.reads
    assert reads is not None
    assert reads.reads(case=case.case_id) == []
    response = await stack.timeline(case.case_id, headers=stack.auth(Role.SOCIAL_WORKER))
    assert response.status_code == 200, response.text
    (read,) = reads.reads(case=case.case_id)
    assert (read.user_id, read.role, read.office_id) == ("u-1042", Role.SOCIAL_WORKER, "31004")
    assert (read.case_id, read.persons) == (case.case_id, (PERSON,))
    assert read.purpose == "GET /cases/{case_id}/timeline"
    assert {"family_name", "national_number"} <= set(read.fields)
    assert list(read.fields) == sorted(read.fields)
    assert reads.reads(person=PERSON) == [read]


async def test_reads_without_decrypted_fields_are_not_logged(stack: ApiStack) -> None:
    case = await opened(stack)
    reads = stack.api.reads
    assert reads is not None
    for role in (Role.INSPECTOR, Role.FINANCE, Role.DPO):
        response = await stack.timeline(case.case_id, headers=stack.auth(role, user="u-x"))
        assert response.status_code == 200
    assert reads.reads(case=case.case_id) == []
    await stack.ok(case.cmd(RequestErasure), headers=stack.auth())
    await stack.ok(case.cmd(ErasePersonData), headers=stack.auth(Role.DPO))
    erased = await stack.timeline(case.case_id, headers=stack.auth(Role.HEAD_OF_SERVICE))
    assert erased.status_code == 200
    assert reads.reads(case=case.case_id) == []


async def test_a_read_that_cannot_be_logged_is_not_answered(stack: ApiStack) -> None:
    case = await opened(stack)
    reads = stack.api.reads
    assert reads is not None
    with sqlite3.connect(stack.rt.settings.vault_url.removeprefix("sqlite:///")) as db:
        db.execute("DROP TABLE personal_data_reads")  # the log cannot take the row
    response = await stack.timeline(case.case_id, headers=stack.auth(Role.SOCIAL_WORKER))
    problem(response, 503, "store_unavailable")
    assert "Peeters" not in response.text


def test_the_log_filters_by_person_and_case(tmp_path: Path) -> None:
    log = AccessLog(f"sqlite:///{tmp_path / 'vault.sqlite3'}")
    try:
        check_filters(log)
    finally:
        log.close()


@pytest.mark.postgres
def test_the_log_lives_in_postgresql_too(pg_dsn: str) -> None:
    log = AccessLog(pg_dsn)
    try:
        check_filters(log)
    finally:
        log.close()


def check_filters(log: AccessLog) -> None:
    case, other_case, person, other = (uuid.uuid4() for _ in range(4))
    first, second, third = a_read(case, person), a_read(other_case, person), a_read(case, other)
    for read in (first, second, third):
        log.record(read)
    assert log.reads(person=person) == [first, second]
    assert log.reads(case=case) == [first, third]
    assert log.reads(person=person, case=case) == [first]
    assert log.reads(person=uuid.uuid4()) == []


def test_the_dpo_lists_the_reads_of_a_person_on_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "var"
    settings = Settings(data_dir=data)
    log = AccessLog(settings.vault_url)
    case, person = uuid.uuid4(), uuid.uuid4()
    log.record(a_read(case, person, user="u-77"))
    log.record(a_read(uuid.uuid4(), uuid.uuid4(), user="u-88"))
    log.close()
    env = {**os.environ, "DOORSTROOM_DATA_DIR": str(data)}
    for args in (["--person", str(person)], ["--case", str(case)]):
        done = subprocess.run(
            [sys.executable, "-m", "services.cli", "access-log", *args, "--json"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=60,
        )
        (line,) = done.stdout.splitlines()
        row = orjson.loads(line)
        assert (row["user_id"], row["case_id"], row["persons"]) == (
            "u-77",
            str(case),
            [str(person)],
        )
        assert row["fields"] == ["family_name", "national_number"]
    table = subprocess.run(
        [sys.executable, "-m", "services.cli", "access-log", "--person", str(person)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    assert "u-77" in table.stdout
    assert "u-88" not in table.stdout
