"""Trend reports as charts (PNG or SVG) drawn with matplotlib's Agg backend, no display."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass

import matplotlib as mpl

mpl.use("Agg")

from matplotlib.figure import Figure

from projections.reports.model import ReportTable


@dataclass(frozen=True)
class ChartSpec:
    """Which columns make the x axis, the values and the series (one line or bar group each)."""

    x: str
    y: str
    series: str
    kind: str  # "line" or "bar"
    y_label: str


CHARTS: dict[str, ChartSpec] = {
    "monthly-count": ChartSpec("month", "people", "office", "line", "people with an active right"),
    "cohort-outflow": ChartSpec("reason", "people", "office", "bar", "people"),
    "lap-progress": ChartSpec("measure", "people", "office", "bar", "people"),
}


def series_of(report: ReportTable) -> dict[str, list[tuple[str, float]]]:
    """The points of each series of ``report``'s chart, in row order."""
    spec = CHARTS.get(report.name)
    if spec is None:
        raise LookupError(f"{report.name} has no chart; charts: {', '.join(CHARTS)}")
    out: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for row in report.as_dicts():
        value = row[spec.y]
        if value is None:
            continue
        out[str(row[spec.series])].append((str(row[spec.x]), float(value)))
    return dict(out)


def chart(report: ReportTable, fmt: str) -> bytes:
    """``report`` drawn as a PNG or SVG; each series carries its name as label (and SVG id)."""
    spec = CHARTS.get(report.name)
    if spec is None:
        raise LookupError(f"{report.name} has no chart; charts: {', '.join(CHARTS)}")
    series = series_of(report)
    fig = Figure(figsize=(9, 4.5))
    ax = fig.add_subplot()
    categories = list(dict.fromkeys(x for points in series.values() for x, _ in points))
    width = 0.8 / max(len(series), 1)
    for index, (name, points) in enumerate(sorted(series.items())):
        xs = [categories.index(x) for x, _ in points]
        ys = [y for _, y in points]
        if spec.kind == "line":
            artist = ax.plot(xs, ys, marker="o", label=name)[0]
            artist.set_gid(f"series-{name}")
        else:
            bars = ax.bar([x + index * width for x in xs], ys, width=width, label=name)
            for number, patch in enumerate(bars.patches):
                patch.set_gid(f"series-{name}-{number}")
    shift = 0.0 if spec.kind == "line" else width * (len(series) - 1) / 2
    ax.set_xticks([i + shift for i in range(len(categories))], categories, rotation=45, ha="right")
    ax.set_ylabel(spec.y_label)
    known = "now" if report.known_on is None else report.known_on.isoformat()
    ax.set_title(f"{report.title}: true on {report.on.isoformat()}, known on {known}")
    if series:
        ax.legend(title=spec.series)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, metadata=_metadata(report, fmt))
    return buffer.getvalue()


def _metadata(report: ReportTable, fmt: str) -> dict[str, str]:
    title = f"{report.name} on {report.on.isoformat()}"
    if fmt == "svg":
        return {"Title": title, "Description": report.definition.strip()}
    return {"Title": title}
