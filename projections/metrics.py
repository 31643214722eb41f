"""The projections' lag in the Prometheus text format (``GET /metrics``).

The figures are read when scraped (checkpoints from the read-model database, the stream's
last sequence and one storage time from JetStream), so every process that can reach both
serves the same answer, whichever one runs the workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from projections.status import Lag

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""What ``generate_latest`` writes."""


class _Snapshot(Collector):
    """Yields the gauges of one lag report (a collector per scrape, nothing global)."""

    def __init__(self, stream: str, report: Sequence[Lag]) -> None:
        self.stream, self.report = stream, report

    def collect(self) -> Iterable[Metric]:
        last = GaugeMetricFamily(
            "doorstroom_stream_last_sequence",
            "Sequence of the last event stored in the stream.",
            labels=["stream"],
        )
        position = GaugeMetricFamily(
            "doorstroom_projection_position",
            "Stream sequence up to which the projection's rows are committed (its checkpoint).",
            labels=["projection"],
        )
        events = GaugeMetricFamily(
            "doorstroom_projection_lag_events",
            "Events stored in the stream that the projection has not applied yet.",
            labels=["projection"],
        )
        seconds = GaugeMetricFamily(
            "doorstroom_projection_lag_seconds",
            "Seconds since the oldest event the projection has not applied was stored "
            "(0 when caught up).",
            labels=["projection"],
        )
        if self.report:
            last.add_metric([self.stream], self.report[0].last_seq)
        for lag in self.report:
            position.add_metric([lag.key], lag.position)
            events.add_metric([lag.key], lag.lag_events)
            seconds.add_metric([lag.key], lag.lag_seconds)
        return [last, position, events, seconds]


def render(stream: str, report: Sequence[Lag]) -> bytes:
    """The report as a Prometheus exposition (text format 0.0.4)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(stream, report))
    return generate_latest(registry)
