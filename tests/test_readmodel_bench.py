"""The read-side benchmark runs end to end on a small stream (its histories stay valid)."""

from __future__ import annotations

import pytest

from projections.catalogue import PROJECTIONS
from services.bench.projections import EVENTS_PER_CASE, run_benchmark
from tests.conftest import postgres_dsn


@pytest.mark.postgres
async def test_the_read_side_benchmark_projects_its_histories_without_stopping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DOORSTROOM_NATS_URL", raising=False)
    figures = await run_benchmark(
        events=10 * EVENTS_PER_CASE,
        batch_size=50,
        rebuild_batch=70,
        log=lambda _: None,
        postgres=postgres_dsn(),
    )
    assert figures["stream_events"] == 200
    assert set(figures["alone_events_per_s"]) == {p.key for p in PROJECTIONS}
    for database in ("sqlite", "postgres"):
        assert set(figures[database]) == {"read_models", "all", "alone"}
        assert figures[database]["all"]["events_per_s"] > 0
    assert figures["raw_read"]["events_per_s"] > 0
    assert figures["eventsourcing_projection_sqlite"]["events"] == 200
    assert 0 < figures["worker"]["peak_rss_mb"] < 300
    applied = {key: part["events"] for key, part in figures["apply"].items()}
    assert applied == {
        "case_directory.v1": 200,
        "caseload.v1": 200,
        "placements.v1": 30,
        "subsidy_history.v1": 60,
    }
