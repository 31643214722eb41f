"""Counsellors work on their own caseload: assignment decides who reads and writes a case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from events.base import Role
from services.commands.guidance import StartTrajectory
from services.commands.placements import StartPlacement
from services.embedded import NatsServer
from tests.support.api import ApiStack, api_stack, problem
from tests.support.domain import OTHER_OFFICE, TRAJECTORY, Case
from tests.test_http_api import assignment, head, opened


@pytest.fixture
async def stack(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[ApiStack]:
    async with api_stack(nats_server.url, tmp_path) as s:
        yield s


COACH = "u-coach"


async def test_a_counsellor_reads_and_writes_only_while_assigned(stack: ApiStack) -> None:
    case = await opened(stack)
    coach = stack.auth(Role.TRAJECTORY_COUNSELLOR, user=COACH)
    before = await stack.messages()
    problem(await stack.send(case.cmd(StartTrajectory), headers=coach), 403, "not_assigned")
    problem(await stack.timeline(case.case_id, headers=coach), 403, "not_assigned")
    assert await stack.messages() == before

    await stack.ok(assignment(case, Role.TRAJECTORY_COUNSELLOR, COACH), headers=head(stack))
    await stack.ok(case.cmd(StartTrajectory), headers=coach)
    response = await stack.timeline(case.case_id, headers=coach)
    assert response.status_code == 200, response.text
    assert response.json()["events"][1]["data"]["family_name"] == "Peeters"

    unassign = assignment(case, Role.TRAJECTORY_COUNSELLOR, COACH, assign=False)
    await stack.ok(unassign, headers=head(stack))
    problem(await stack.timeline(case.case_id, headers=coach), 403, "not_assigned")
    placement = case.cmd(StartPlacement, trajectory_id=TRAJECTORY)
    problem(await stack.send(placement, headers=coach), 403, "not_assigned")


async def test_the_assignment_is_for_the_user_in_that_role(stack: ApiStack) -> None:
    case = await opened(stack)
    await stack.ok(assignment(case, Role.JOB_COACH, COACH), headers=head(stack))
    as_other_role = stack.auth(Role.TRAJECTORY_COUNSELLOR, user=COACH)
    problem(await stack.timeline(case.case_id, headers=as_other_role), 403, "not_assigned")
    other_user = stack.auth(Role.JOB_COACH, user="u-someone-else")
    problem(await stack.timeline(case.case_id, headers=other_user), 403, "not_assigned")
    ok = await stack.timeline(case.case_id, headers=stack.auth(Role.JOB_COACH, user=COACH))
    assert ok.status_code == 200, ok.text


async def test_the_intake_worker_hands_the_case_over_and_then_needs_an_assignment(
    stack: ApiStack,
) -> None:
    case = await opened(stack)  # by social worker u-1042
    intake = stack.auth(Role.SOCIAL_WORKER)
    colleague = stack.auth(Role.SOCIAL_WORKER, user="u-2000")
    problem(await stack.timeline(case.case_id, headers=colleague), 403, "not_assigned")
    assert (await stack.timeline(case.case_id, headers=intake)).status_code == 200

    await stack.ok(assignment(case, Role.SOCIAL_WORKER, "u-2000"), headers=intake)
    assert (await stack.timeline(case.case_id, headers=colleague)).status_code == 200
    problem(await stack.timeline(case.case_id, headers=intake), 403, "not_assigned")
    again = assignment(case, Role.SOCIAL_WORKER, "u-1042")
    problem(await stack.send(again, headers=intake), 403, "assignment_not_allowed")


async def test_an_assigned_counsellor_does_not_assign_others(stack: ApiStack) -> None:
    case = await opened(stack)
    await stack.ok(assignment(case, Role.TRAJECTORY_COUNSELLOR, COACH), headers=head(stack))
    coach = stack.auth(Role.TRAJECTORY_COUNSELLOR, user=COACH)
    colleague = assignment(case, Role.TRAJECTORY_COUNSELLOR, "u-friend")
    problem(await stack.send(colleague, headers=coach), 403, "assignment_not_allowed")
    unassign_self = assignment(case, Role.TRAJECTORY_COUNSELLOR, COACH, assign=False)
    problem(await stack.send(unassign_self, headers=coach), 403, "assignment_not_allowed")


async def test_office_wide_roles_are_not_bound_to_assignments(stack: ApiStack) -> None:
    case = await opened(stack)
    await stack.ok(assignment(case, Role.SOCIAL_WORKER, "u-2000"), headers=head(stack))
    for role in (Role.HEAD_OF_SERVICE, Role.INSPECTOR, Role.FINANCE, Role.BCSD):
        response = await stack.timeline(case.case_id, headers=stack.auth(role, user="u-x"))
        assert response.status_code == 200, (role, response.text)


async def test_another_offices_case_stays_not_found_for_counsellors(stack: ApiStack) -> None:
    case = await opened(stack)
    stranger = stack.auth(Role.TRAJECTORY_COUNSELLOR, office=OTHER_OFFICE, user=COACH)
    problem(await stack.timeline(case.case_id, headers=stranger), 404, "case_not_found")
    problem(await stack.send(case.cmd(StartTrajectory), headers=stranger), 404, "case_not_found")
    unknown = Case()
    coach = stack.auth(Role.TRAJECTORY_COUNSELLOR, user=COACH)
    problem(await stack.send(unknown.cmd(StartTrajectory), headers=coach), 404, "case_not_found")
