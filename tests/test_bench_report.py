"""The report benchmark replays a small stream and computes a report from it."""

from __future__ import annotations

from datetime import date

import pytest

from services.bench.projections import EVENTS_PER_CASE
from services.bench.reports import run_benchmark


async def test_the_report_benchmark_reads_every_event_and_finds_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DOORSTROOM_NATS_URL", raising=False)
    events = 20 * EVENTS_PER_CASE
    figures = await run_benchmark(
        names=["caseload", "lap-progress"], events=events, on=date(2025, 12, 31), log=lambda _: None
    )
    assert figures["stream_events"] == events
    caseload, lap = figures["reports"]
    assert caseload["report"] == "caseload"
    assert caseload["events_read"] == events
    assert caseload["rows"] > 0
    assert caseload["events_per_s"] > 0
    assert figures["slowest_total_seconds"] == caseload["total_seconds"]
    assert lap == {"report": "lap-progress", "refused": lap["refused"]}
    assert "no LAP call" in lap["refused"]
