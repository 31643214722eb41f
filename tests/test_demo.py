"""The demo data on a real nats-server: three offices, every command accepted, never twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.demo import demo_items, fill_demo
from services.demo.offices import OFFICES
from services.embedded import NatsServer
from services.runtime import Runtime, build_application, open_runtime
from services.settings import Settings

EXPECTED_CASES = {"11016": 60, "31004": 140, "34027": 110}


@pytest.fixture
async def rt(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Runtime]:
    async with open_runtime(Settings(nats_url=nats_server.url, data_dir=tmp_path)) as runtime:
        yield runtime


async def cases_on_stream(rt: Runtime, office: str) -> int:
    info = await rt.js.stream_info(
        rt.settings.stream, subjects_filter=f"ds.ev.{office}.*.AidRequestReceived"
    )
    return len(info.state.subjects or {})


@pytest.mark.slow
async def test_the_demo_fills_three_offices_and_every_command_passes_the_domain_rules(
    rt: Runtime,
) -> None:
    report = await fill_demo(await build_application(rt))
    assert report.refused == []
    assert report.cases == EXPECTED_CASES
    assert report.stored == report.commands > 10_000
    for office, expected in EXPECTED_CASES.items():
        assert await cases_on_stream(rt, office) == expected
    assert {p.nis: p.cases for p in OFFICES} == EXPECTED_CASES

    before = await rt.store.last_seq()
    again = await fill_demo(await build_application(rt))
    assert (again.stored, again.already_stored, again.refused) == (0, report.commands, [])
    assert await rt.store.last_seq() == before


def test_the_demo_is_the_same_every_time() -> None:
    now = datetime(2026, 1, 5, 9, tzinfo=UTC)
    first = [(c, ctx.actor, ctx.office_id) for c, ctx in demo_items(now)]
    later = [(c, ctx.actor, ctx.office_id) for c, ctx in demo_items(now + timedelta(days=30))]
    assert first == later
    names = {c.command_name for c, _, _ in first}
    assert {
        "GrantLeefloon",
        "SignGpmi",
        "EvaluateGpmi",
        "EnrolInLanguageCourse",
        "JoinGroupProject",
        "StartPlacement",
        "StartAftercare",
        "RecordOutflow",
        "SubmitSubsidyClaim",
        "RecordSubsidyClaimRejection",
        "CorrectSubsidyClaim",
        "ImposeSanction",
        "RegisterLapEngagement",
    } <= names
