"""Reports through their surfaces: ``doorstroom report`` and ``GET /reports/{name}``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from events.base import Role
from events.registry import registry
from events.subsidies import SubsidyScheme
from projections.reports.caseload import caseload_report
from projections.reports.common import definition_of
from services.cli import app
from services.embedded import NatsServer
from services.store import EventStore
from tests.support import histories as h
from tests.support.api import ApiStack, api_stack, problem
from tests.support.domain import OFFICE, OTHER_OFFICE
from tests.support.readmodels import Writer
from tests.support.stack import store_on


async def two_offices(store: EventStore) -> None:
    """One person with a right in each office from 1 January 2025; the one in OFFICE has a
    claim corrected on 10 April (first 1,000 cents, then 1,200)."""
    w = Writer(store)
    mine, theirs, claim, fixed = uuid4(), uuid4(), uuid4(), uuid4()
    for case, office in ((mine, OFFICE), (theirs, OTHER_OFFICE)):
        await w.add(
            case,
            office,
            h.granted(uuid4(), decided_on=date(2025, 1, 1), effective_from=date(2025, 1, 1)),
            on=date(2025, 1, 1),
        )
    rmi = SubsidyScheme.RMI_BASE
    await w.add(mine, OFFICE, h.claim(claim, rmi, "2025-03", 1000), on=date(2025, 4, 1))
    await w.add(
        mine, OFFICE, h.claim_corrected(fixed, claim, rmi, "2025-03", 1200), on=date(2025, 4, 10)
    )


@pytest.fixture
async def stack(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[ApiStack]:
    async with api_stack(nats_server.url, tmp_path) as s:
        await two_offices(s.store)
        yield s


async def test_http_report_is_of_the_callers_office_only(stack: ApiStack) -> None:
    headers = stack.auth(Role.HEAD_OF_SERVICE)
    answer = await stack.client.get("/reports/caseload?on=2025-03-15", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {r["office"] for r in body["rows"]} == {OFFICE}
    assert body["offices"] == [OFFICE]
    assert body["on"] == "2025-03-15"
    assert body["definition"] == definition_of(caseload_report)  # the docstring


async def test_http_known_on_gives_the_figure_before_the_correction(stack: ApiStack) -> None:
    headers = stack.auth(Role.FINANCE)
    url = "/reports/subsidy-ledger?on=2025-04-30&format=json"
    before = (await stack.client.get(f"{url}&known_on=2025-04-09", headers=headers)).json()
    after = (await stack.client.get(url, headers=headers)).json()
    assert before["totals"]["claimed_cents"] == 1000
    assert after["totals"]["claimed_cents"] == 1200
    assert after["totals"]["corrected_cents"] == 200


async def test_http_reports_refuse_other_roles_unknown_names_and_charts_without_a_chart(
    stack: ApiStack,
) -> None:
    worker = stack.auth(Role.SOCIAL_WORKER)
    problem(await stack.client.get("/reports/caseload", headers=worker), 403, "forbidden_for_role")
    head = stack.auth(Role.HEAD_OF_SERVICE)
    problem(await stack.client.get("/reports/nope", headers=head), 404, "unknown_report")
    problem(await stack.client.get("/reports/caseload?format=png", headers=head), 404, "no_chart")
    problem(await stack.client.get("/reports/caseload"), 401, "unauthenticated")
    no_call = await stack.client.get("/reports/lap-progress?on=2023-01-01", headers=head)
    problem(no_call, 422, "report_not_available")


async def test_http_chart_is_an_svg_of_the_office(stack: ApiStack) -> None:
    head = stack.auth(Role.HEAD_OF_SERVICE)
    answer = await stack.client.get("/reports/monthly-count?on=2025-04-30&format=svg", headers=head)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/svg+xml"
    assert f'id="series-{OFFICE}"' in answer.text
    assert f'id="series-{OTHER_OFFICE}"' not in answer.text


async def _fill(url: str, tmp_path: Path) -> None:
    async with store_on(url, tmp_path, registry()) as (store, _):
        await two_offices(store)


def test_cli_report_for_a_region_as_known_on_a_date(
    nats_server: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOORSTROOM_NATS_URL", nats_server.url)
    monkeypatch.setenv("DOORSTROOM_DATA_DIR", str(tmp_path / "data"))
    asyncio.run(_fill(nats_server.url, tmp_path))
    runner = CliRunner()
    region = ["--office", OFFICE, "--office", OTHER_OFFICE]
    result = runner.invoke(
        app, ["report", "caseload", *region, "--on", "2025-03-15", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert {(r["office"], r["people"]) for r in rows if r["dimension"] == "total"} == {
        (OFFICE, 1),
        (OTHER_OFFICE, 1),
    }
    ledger = runner.invoke(
        app,
        [
            "report",
            "subsidy-ledger",
            "--office",
            OFFICE,
            "--on",
            "2025-04-30",
            "--known-on",
            "2025-04-09",
            "--format",
            "csv",
        ],
    )
    assert ledger.exit_code == 0, ledger.output
    assert ledger.stdout.startswith("# Subsidy ledger")
    # No payment recorded: nothing eligible; 1,000 claimed before the correction was known.
    assert ledger.stdout.rstrip().splitlines()[-1] == "TOTAL,,,,0,,1000,0,0,0,"
    out = tmp_path / "monthly.png"
    png = runner.invoke(
        app, ["report", "monthly-count", "--on", "2025-04-30", "--format", "png", "--out", str(out)]
    )
    assert png.exit_code == 0, png.output
    assert out.read_bytes().startswith(b"\x89PNG")
    bad = runner.invoke(app, ["report", "caseload", "--on", "2025-13-01"])
    assert bad.exit_code == 2
    assert "not a date" in bad.output
    # Reports replay into memory: the live read-model database was never created.
    assert not (tmp_path / "data" / "readmodels.sqlite3").exists()
    no_call = runner.invoke(app, ["report", "lap-progress", "--on", "2023-01-01"])
    assert no_call.exit_code == 1
    assert "no LAP call holds 2023-01-01" in no_call.output
    unknown = runner.invoke(app, ["report", "nope"])
    assert unknown.exit_code == 2
    assert "unknown report" in unknown.output
