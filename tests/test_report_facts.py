"""The report facts: which events count after retractions of retractions, the folds cover every
fact event, and the charts carry the report's series."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from uuid import UUID, uuid4

import pytest

from events.case import EventRetracted, RetractionReason
from events.registry import registry
from projections.reports import REPORTS
from projections.reports.charts import chart, series_of
from projections.reports.common import definition_of
from projections.reports.facts import FACT_EVENTS, report_facts
from projections.reports.history import _FOLDS
from projections.reports.model import ReportTable, to_csv, to_json, to_table
from projections.reports.replay import known_cutoff
from services.embedded import NatsServer
from services.store import EventStore
from tests.support import histories as h
from tests.support.readmodels import Writer, fresh_store
from tests.support.reports import report
from tests.test_projections_support import BRUGGE, GENT


@pytest.fixture
async def store(module_nats_server: NatsServer) -> AsyncIterator[EventStore]:
    async with fresh_store(module_nats_server.url) as event_store:
        yield event_store


def test_every_fact_event_exists_and_has_a_fold() -> None:
    assert set(FACT_EVENTS) <= set(registry().names())
    assert set(_FOLDS) == set(FACT_EVENTS) == report_facts.handles


def test_every_report_states_its_definition_in_its_docstring() -> None:
    for name, entry in REPORTS.items():
        text = definition_of(entry.build)
        assert len(text) > 200, name
        assert "people" in text or "line" in text, name


def test_known_on_cuts_off_at_midnight_brussels_time() -> None:
    assert known_cutoff(date(2025, 1, 9)).isoformat() == "2025-01-10T00:00:00+01:00"
    assert known_cutoff(date(2025, 7, 9)).isoformat() == "2025-07-10T00:00:00+02:00"


async def test_a_retracted_retraction_makes_the_event_count_again(store: EventStore) -> None:
    w, case, decision = Writer(store), uuid4(), uuid4()
    granted = await w.add(
        case,
        BRUGGE,
        h.granted(decision, decided_on=date(2025, 1, 1), effective_from=date(2025, 1, 1)),
        on=date(2025, 1, 1),
    )

    async def retract(target: UUID, on: date) -> UUID:
        return await w.add(
            case,
            BRUGGE,
            EventRetracted(retracted_event_id=target, reason=RetractionReason.RECORDED_IN_ERROR),
            on=on,
        )

    first = await retract(granted, date(2025, 2, 1))
    second = await retract(first, date(2025, 2, 2))

    async def total(known_on: date | None = None) -> int:
        table = await report(store, "caseload", on=date(2025, 3, 1), known_on=known_on)
        return sum(int(r["people"] or 0) for r in table.as_dicts() if r["dimension"] == "total")

    assert await total(date(2025, 2, 1)) == 1  # nothing retracted yet (recorded next day)
    assert await total(date(2025, 2, 2)) == 0  # the grant is retracted
    assert await total(date(2025, 2, 3)) == 1  # the retraction is retracted
    await retract(second, date(2025, 2, 10))
    assert await total() == 0  # the first retraction counts again


def _monthly() -> ReportTable:
    rows = (
        (BRUGGE, "2025-01", 10, None, 55),
        (BRUGGE, "2025-02", 12, None, 55),
        (GENT, "2025-01", 7, None, 55),
        (GENT, "2025-02", 5, None, 55),
    )
    return ReportTable(
        name="monthly-count",
        title="Monthly count and refund tier",
        definition="People.",
        on=date(2025, 2, 28),
        known_on=None,
        offices=None,
        year=2025,
        columns=("office", "month", "people", "average", "refund_percent"),
        rows=rows,
    )


def test_a_chart_holds_one_series_per_office_in_png_and_svg() -> None:
    table = _monthly()
    assert series_of(table) == {
        BRUGGE: [("2025-01", 10.0), ("2025-02", 12.0)],
        GENT: [("2025-01", 7.0), ("2025-02", 5.0)],
    }
    png = chart(table, "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    svg = chart(table, "svg").decode()
    assert svg.lstrip().startswith("<?xml")
    assert "<svg" in svg
    assert f'id="series-{BRUGGE}"' in svg
    assert f'id="series-{GENT}"' in svg
    assert "Monthly count and refund tier" in svg


def test_formats_carry_the_definition_and_the_dates() -> None:
    table = _monthly()
    text = to_table(table)
    assert "true on 2025-02-28, as known on now" in text
    assert "People." in text
    csv_text = to_csv(table)
    assert csv_text.splitlines()[0].startswith("# Monthly count")
    assert "office,month,people,average,refund_percent" in csv_text
    assert b'"definition": "People."' in to_json(table)
