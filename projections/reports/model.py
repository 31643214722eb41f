"""A generated report: its definition, the dates it is true on and known on, rows and totals,
and how it is written out (table, CSV, JSON)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from projections.rules import RuleBook

Value = str | int | None


@dataclass(frozen=True)
class Params:
    """What a report is asked for: true on ``on``, as known on ``known_on`` (None: now),
    for ``offices`` (None: every office), the reporting ``year`` and the rules to use."""

    on: date
    known_on: date | None
    offices: frozenset[str] | None
    year: int
    rules: RuleBook

    def counts(self, office: str) -> bool:
        return self.offices is None or office in self.offices


class ReportTable(BaseModel):
    """A report's figures with everything needed to read them right."""

    model_config = ConfigDict(frozen=True)

    name: str
    title: str
    definition: str
    on: date
    known_on: date | None
    offices: tuple[str, ...] | None
    year: int
    columns: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]
    totals: tuple[Value, ...] | None = None
    rule_versions: tuple[str, ...] = ()

    def total(self, name: str) -> Value:
        """The totals line's value of column ``name``."""
        if self.totals is None:
            raise LookupError(f"{self.name} has no totals line")
        return self.totals[self.columns.index(name)]

    def column(self, name: str) -> list[Value]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def as_dicts(self) -> list[dict[str, Value]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def heading(self) -> list[str]:
        known = "now" if self.known_on is None else self.known_on.isoformat()
        offices = "all offices" if self.offices is None else ", ".join(self.offices)
        lines = [
            f"{self.title} ({self.name})",
            f"true on {self.on.isoformat()}, as known on {known}; {offices}; year {self.year}",
        ]
        if self.rule_versions:
            lines.append(f"rule versions: {', '.join(self.rule_versions)}")
        return [*lines, "", *self.definition.strip().splitlines()]


def to_json(report: ReportTable) -> bytes:
    body: dict[str, Any] = report.model_dump(mode="json")
    body["rows"] = report.as_dicts()
    if report.totals is not None:
        body["totals"] = dict(zip(report.columns, report.totals, strict=True))
    return orjson.dumps(body, option=orjson.OPT_INDENT_2)


def to_csv(report: ReportTable) -> str:
    """CSV with the heading and definition as ``#`` comment lines before the header row."""
    out = io.StringIO()
    for line in report.heading():
        out.write(f"# {line}".rstrip() + "\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(report.columns)
    writer.writerows(report.rows)
    if report.totals is not None:
        writer.writerow(report.totals)
    return out.getvalue()


def to_table(report: ReportTable) -> str:
    """Plain aligned text: heading, definition, rows and the totals line."""
    body: list[Sequence[Value]] = [report.columns, *report.rows]
    if report.totals is not None:
        body.append(report.totals)
    cells = [["" if v is None else str(v) for v in row] for row in body]
    widths = [max(len(row[i]) for row in cells) for i in range(len(report.columns))]
    lines = [*report.heading(), ""]
    for index, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths, strict=True)
            ).rstrip()
        )
        if index == 0 or (report.totals is not None and index == len(cells) - 2):
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def _numeric(text: str) -> bool:
    return text.lstrip("-").replace(".", "", 1).isdigit()
