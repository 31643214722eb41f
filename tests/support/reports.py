"""Generating a report from a test stream, the way the CLI does."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from projections.reports import Params, ReportTable, generate
from projections.reports.model import Value
from projections.rules import default_rules
from services.store import EventStore


async def report(
    store: EventStore,
    name: str,
    *,
    on: date,
    known_on: date | None = None,
    offices: Iterable[str] | None = None,
    year: int | None = None,
) -> ReportTable:
    params = Params(
        on=on,
        known_on=known_on,
        offices=None if offices is None else frozenset(offices),
        year=year or on.year,
        rules=default_rules(),
    )
    return await generate(
        store.nc,
        name,
        params,
        stream=store.stream,
        subjects=store.subjects,
        registry=store.registry,
    )


def rows_by(table: ReportTable, *key: str) -> dict[tuple[Value, ...], dict[str, Value]]:
    """The rows keyed by the values of columns ``key``."""
    out = {}
    for row in table.as_dicts():
        out[tuple(row[k] for k in key)] = row
    return out
