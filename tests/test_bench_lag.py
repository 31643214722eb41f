"""The append-to-visible benchmark runs end to end on a short run (every event counted)."""

from __future__ import annotations

import pytest

from projections.catalogue import PROJECTIONS
from services.bench.lag import append_to_visible


async def test_the_lag_benchmark_times_every_event_until_every_read_model_shows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DOORSTROOM_NATS_URL", raising=False)
    figures = await append_to_visible(rate=100, seconds=1, warmup_s=0.2)
    assert figures["events"] == 100
    assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["append_to_visible"]["max_ms"]
    assert set(figures["per_projection_p99_ms"]) == {p.key for p in PROJECTIONS}
    # Visible no earlier than stored: the append's answer comes before the commit.
    assert figures["append_ack"]["p50_ms"] <= figures["p50_ms"]
