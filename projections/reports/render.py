"""A report in the asked format: text table, CSV, JSON, or a PNG/SVG chart."""

from __future__ import annotations

from projections.reports.model import ReportTable, to_csv, to_json, to_table

FORMATS = ("table", "csv", "json", "png", "svg")


def render(report: ReportTable, fmt: str) -> bytes:
    if fmt == "table":
        return to_table(report).encode()
    if fmt == "csv":
        return to_csv(report).encode()
    if fmt == "json":
        return to_json(report)
    if fmt in ("png", "svg"):
        from projections.reports.charts import chart

        image: bytes = chart(report, fmt)
        return image
    raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
