"""The write-side benchmark runs end to end on a small stream of its own."""

from __future__ import annotations

import pytest

from services.bench.store import run_benchmark


async def test_the_write_side_benchmark_fills_its_stream_and_loads_its_cases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DOORSTROOM_NATS_URL", raising=False)
    figures = await run_benchmark(
        events=3000, pipelined=500, concurrency=16, case_events=10, targets=5, log=lambda _: None
    )
    assert figures["stream_events"] >= 3000
    # Every measured case is woven into the stream (how many events each gets depends on
    # how the fill's commands fall; the figures report it).
    assert figures["target_case_events"]["min"] >= 1
    for key in ("raw_publish_async_events_per_s", "pipelined_append_events_per_s"):
        assert figures[key] > 0
    assert figures["bulk_append_events_per_s"] > 0
    assert figures["case_load_ms"]["cached"]["n"] > 0
