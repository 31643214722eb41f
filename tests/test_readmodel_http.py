"""The read models over HTTP: office-scoped, by role, after a command's stream sequence;
and ``/metrics`` in the Prometheus format."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from events.base import Role
from projections.catalogue import PROJECTIONS
from projections.positions import PositionBoard
from projections.worker import run_projections
from services.commands.aid import ReceiveAidRequest, RegisterPerson
from services.commands.guidance import AssignCounselor, StartTrajectory
from services.commands.placements import StartPlacement
from services.commands.rights import GrantLeefloon
from services.commands.subsidies import SubmitSubsidyClaim
from services.embedded import NatsServer
from services.http.app import open_api
from services.runtime import open_runtime
from services.settings import Settings
from tests.support.api import BASE_URL, ApiStack, problem
from tests.support.domain import GRANT, OFFICE, OTHER_OFFICE, TRAJECTORY, Case, event_ref

JOB_COACH = "u-2207"


@asynccontextmanager
async def read_stack(
    nats_url: str, tmp_path: Path, *, workers: bool, wait_s: float = 10.0
) -> AsyncIterator[ApiStack]:
    """The API with its read models; with ``workers``, the projection workers in-process."""
    settings = Settings(nats_url=nats_url, data_dir=tmp_path / "data", read_wait_s=wait_s)
    stop = asyncio.Event()
    async with open_runtime(settings) as rt:
        board = PositionBoard() if workers else None
        task = None
        if board is not None:
            # The safety-net wait is far beyond the test's: only the wake-up moves the workers.
            task = asyncio.create_task(
                run_projections(
                    rt.nc,
                    settings,
                    rt.registry,
                    PROJECTIONS,
                    stop,
                    idle_wait_s=600,
                    progress=board.advance,
                )
            )
        try:
            async with open_api(rt, board) as app:
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                    yield ApiStack(app, client, rt)
        finally:
            stop.set()
            if task is not None:
                await asyncio.wait_for(task, 30)


async def placed_and_claimed(stack: ApiStack, office: str) -> tuple[Case, int]:
    """A granted case in a trajectory with a placement and a claim; the last stream sequence."""
    case = Case(office=office)
    worker = stack.auth(Role.SOCIAL_WORKER, office)
    grant = {"decision_id": GRANT, "effective_until": None}
    answers = await stack.ok(
        case.cmd(ReceiveAidRequest),
        case.cmd(RegisterPerson),
        case.cmd(GrantLeefloon, **grant),
        case.cmd(StartTrajectory, trajectory_id=TRAJECTORY),
        # The intake hands the case to the job coach, who then starts the placement.
        case.cmd(AssignCounselor, role=Role.JOB_COACH.value, counselor_user_id=JOB_COACH),
        headers=worker,
    )
    granted = UUID(answers[2]["event_ids"][0])
    await stack.ok(
        case.cmd(StartPlacement, trajectory_id=TRAJECTORY, placement_id=uuid4()),
        headers=stack.auth(Role.JOB_COACH, office, user=JOB_COACH),
    )
    claim = case.cmd(
        SubmitSubsidyClaim,
        claim_id=uuid4(),
        scheme="rmi_base",
        period="2025-03",
        decision_id=GRANT,
        gpmi_id=None,
        placement_id=None,
        evidence=[event_ref(granted)],
    )
    [last] = await stack.ok(claim, headers=stack.auth(Role.FINANCE, office))
    return case, int(last["last_seq"])


async def read(
    stack: ApiStack, path: str, role: Role, office: str = OFFICE, **params: Any
) -> httpx.Response:
    return await stack.client.get(path, params=params, headers=stack.auth(role, office))


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def served(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[ApiStack]:
    async with read_stack(nats_server.url, tmp_path, workers=True) as stack:
        yield stack


async def test_a_read_after_a_commands_sequence_shows_that_command(served: ApiStack) -> None:
    case, last = await placed_and_claimed(served, OFFICE)
    caseload = ok(await read(served, "/caseload", Role.JOB_COACH, after_seq=last))
    assert caseload["read_model"] == "caseload.v1"
    assert caseload["position"] >= last
    [row] = caseload["data"]
    assert (row["case_id"], row["trajectory_id"]) == (str(case.case_id), str(TRAJECTORY))

    placements = ok(await read(served, "/placements", Role.JOB_COACH, after_seq=last))
    assert [p["case_id"] for p in placements["data"]] == [str(case.case_id)]
    claims = ok(await read(served, "/subsidies/claims", Role.FINANCE, after_seq=last))
    [claim] = claims["data"]
    history = ok(
        await read(served, f"/subsidies/claims/{claim['claim_id']}", Role.INSPECTOR, after_seq=last)
    )
    assert [s["step"] for s in history["data"]["steps"]] == ["submitted"]
    flags = ok(await read(served, "/subsidies/audit-flags", Role.FINANCE, after_seq=last))
    assert flags["data"] == []


async def test_an_office_sees_only_its_own_rows(served: ApiStack) -> None:
    mine, _ = await placed_and_claimed(served, OFFICE)
    theirs, last = await placed_and_claimed(served, OTHER_OFFICE)
    for path, role in (
        ("/caseload", Role.SOCIAL_WORKER),
        ("/caseload/deadlines", Role.SOCIAL_WORKER),
        ("/placements", Role.JOB_COACH),
        ("/subsidies/claims", Role.FINANCE),
    ):
        for office, case in ((OFFICE, mine), (OTHER_OFFICE, theirs)):
            body = ok(await read(served, path, role, office, after_seq=last))
            assert body["office_id"] == office
            assert {r["case_id"] for r in body["data"]} == {str(case.case_id)}, path
    counts = ok(await read(served, "/caseload/counts", Role.HEAD_OF_SERVICE, after_seq=last))
    assert counts["data"]["per_trajectory_kind"] == [
        {"trajectory_kind": counts["data"]["per_trajectory_kind"][0]["trajectory_kind"], "cases": 1}
    ]
    employers = ok(await read(served, "/placements/employers", Role.FINANCE, after_seq=last))
    assert sum(line["total"] for line in employers["data"]) == 1

    [other_claim] = ok(await read(served, "/subsidies/claims", Role.FINANCE, OTHER_OFFICE))["data"]
    response = await read(served, f"/subsidies/claims/{other_claim['claim_id']}", Role.FINANCE)
    problem(response, 404, "claim_not_found")


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/caseload", Role.GROUP_LEADER),
        ("/caseload", Role.FINANCE),
        ("/placements", Role.DPO),
        ("/subsidies/claims", Role.SOCIAL_WORKER),
        ("/subsidies/audit-flags", Role.JOB_COACH),
    ],
)
async def test_a_role_reads_only_the_read_models_of_its_work(
    served: ApiStack, path: str, role: Role
) -> None:
    body = problem(await read(served, path, role), 403, "forbidden_for_role")
    assert role.value in body["detail"]


async def test_reads_need_a_token(served: ApiStack) -> None:
    problem(await served.client.get("/caseload"), 401, "unauthenticated")


async def test_a_projection_that_does_not_reach_the_sequence_in_time_answers_504(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with read_stack(nats_server.url, tmp_path, workers=True) as stack:
        _, last = await placed_and_claimed(stack, OFFICE)
        ok(await read(stack, "/caseload", Role.SOCIAL_WORKER, after_seq=last))
    # The same read models, and a new command, but no worker running any more.
    async with read_stack(nats_server.url, tmp_path, workers=False, wait_s=0.2) as stack:
        _, newer = await placed_and_claimed(stack, OFFICE)
        response = await read(stack, "/caseload", Role.SOCIAL_WORKER, after_seq=newer)
        body = problem(response, 504, "not_caught_up")
        assert (body["position"], body["field"]) == (last, "after_seq")
        assert response.headers["retry-after"] == "1"
        current = ok(await read(stack, "/caseload", Role.SOCIAL_WORKER))
        assert current["position"] == last
        beyond = await read(stack, "/caseload", Role.SOCIAL_WORKER, after_seq=newer + 100)
        assert problem(beyond, 422, "unknown_sequence")["position"] == last


async def test_a_read_model_no_worker_has_built_answers_503(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with read_stack(nats_server.url, tmp_path, workers=False) as stack:
        response = await read(stack, "/caseload", Role.SOCIAL_WORKER)
        problem(response, 503, "read_model_not_built")


async def test_metrics_show_position_and_lag_of_every_projection(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async with read_stack(nats_server.url, tmp_path, workers=True) as stack:
        _, last = await placed_and_claimed(stack, OFFICE)
        for projection in PROJECTIONS:
            await stack.api.read_models.wait_for(projection.key, last, 20)  # type: ignore[union-attr]
        caught_up = metrics(await stack.client.get("/metrics"))
    async with read_stack(nats_server.url, tmp_path, workers=False) as stack:
        await placed_and_claimed(stack, OFFICE)
        behind = metrics(await stack.client.get("/metrics"))
    stream = stack.rt.settings.stream
    assert caught_up[("doorstroom_stream_last_sequence", stream)] == last
    newest = behind[("doorstroom_stream_last_sequence", stream)]
    for p in PROJECTIONS:
        assert caught_up[("doorstroom_projection_position", p.key)] == last
        assert caught_up[("doorstroom_projection_lag_events", p.key)] == 0
        assert caught_up[("doorstroom_projection_lag_seconds", p.key)] == 0
        assert behind[("doorstroom_projection_lag_events", p.key)] == newest - last
        assert behind[("doorstroom_projection_lag_seconds", p.key)] >= 0


def metrics(response: httpx.Response) -> dict[tuple[str, str], float]:
    """(metric, label value) -> value of a Prometheus text exposition."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    out = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            [label] = sample.labels.values()
            out[(sample.name, label)] = sample.value
    return out
