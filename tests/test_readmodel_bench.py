"""The read-side benchmark runs end to end on a small stream (its histories stay valid)."""

from __future__ import annotations

import pytest

from projections.catalogue import PROJECTIONS
from services.bench.projections import EVENTS_PER_CASE, run_benchmark


async def test_the_read_side_benchmark_projects_its_histories_without_stopping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DOORSTROOM_NATS_URL", raising=False)
    figures = await run_benchmark(events=10 * EVENTS_PER_CASE, batch_size=50, log=lambda _: None)
    assert figures["stream_events"] == 200
    assert set(figures["alone_events_per_s"]) == {p.key for p in PROJECTIONS}
    applied = {key: part["events"] for key, part in figures["apply"].items()}
    assert applied == {
        "case_directory.v1": 200,
        "caseload.v1": 200,
        "placements.v1": 30,
        "subsidy_history.v1": 60,
    }
