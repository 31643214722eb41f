"""Small helpers the reports share: shares as text, the report frame."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from projections.reports.model import Params, ReportTable, Value


def definition_of(report: Callable[..., Any]) -> str:
    """A report's exact definition: its docstring, printed with every generated report."""
    return inspect.cleandoc(report.__doc__ or "")


def percent(part: int, whole: int) -> str | None:
    """``part`` of ``whole`` in percent with one decimal, half up; None for an empty whole."""
    if whole == 0:
        return None
    share = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return str(share)


def table(
    params: Params,
    *,
    name: str,
    title: str,
    definition: str,
    columns: tuple[str, ...],
    rows: list[tuple[Value, ...]],
    totals: tuple[Value, ...] | None = None,
    rule_versions: tuple[str, ...] = (),
) -> ReportTable:
    return ReportTable(
        name=name,
        title=title,
        definition=definition,
        on=params.on,
        known_on=params.known_on,
        offices=None if params.offices is None else tuple(sorted(params.offices)),
        year=params.year,
        columns=columns,
        rows=tuple(rows),
        totals=totals,
        rule_versions=rule_versions,
    )
