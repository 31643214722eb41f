"""The bench suite's results as a table: on the terminal (rich) and as Markdown."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

from rich.table import Table

START: Final = "<!-- bench:start -->"
END: Final = "<!-- bench:end -->"
Row = tuple[str, str, str, str, str, str]
NONE: Final = "-"
HEADER: Final = ("figure", "ours", "ceiling", "peer", "ours / ceiling", "ours / peer")


def _n(value: Any, unit: str = "") -> str:
    if value is None:
        return NONE
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    else:
        text = f"{int(value):,}"
    return f"{text}{unit}"


def _r(value: Any) -> str:
    return NONE if value is None else f"{value:.2f}"


def _pair(figures: Any, unit: str) -> str:
    if not isinstance(figures, dict):
        return NONE
    return f"{_n(figures.get('p50'))} / {_n(figures.get('p99'))}{unit}"


def rows(r: dict[str, Any]) -> list[Row]:
    ratios = r.get("ratios", {})
    imported = r.get("import", {})
    rebuild = r.get("rebuild_sqlite", {})
    out: list[Row] = [
        (
            "bulk append, events/s",
            _n(r.get("append_events_per_s")),
            _n(r.get("raw_publish_events_per_s")),
            _n(r.get("peer_app_events_per_s")),
            _r(ratios.get("append_to_raw_publish")),
            _r(ratios.get("append_to_peer_app")),
        ),
        (
            "import (decide + append), events/s",
            _n(imported.get("events_per_s")),
            NONE,
            _n(r.get("peer_app_events_per_s")),
            NONE,
            _r(ratios.get("import_to_peer_app")),
        ),
        (
            "rebuild all, SQLite, events/s",
            _n(r.get("rebuild_sqlite_events_per_s")),
            _n(r.get("raw_read_events_per_s")),
            _n(r.get("peer_projection_events_per_s")),
            _r(ratios.get("rebuild_sqlite_to_raw_read")),
            _r(ratios.get("rebuild_sqlite_to_peer_projection")),
        ),
    ]
    for key, rate in (rebuild.get("alone_events_per_s") or {}).items():
        out.append((f"rebuild {key.split('.')[0]}, SQLite, events/s", _n(rate), *(NONE,) * 4))
    out += [
        (
            "rebuild all, PostgreSQL, events/s",
            _n(r.get("rebuild_postgres_events_per_s")),
            _n(r.get("raw_read_events_per_s")),
            NONE,
            _r(ratios.get("rebuild_postgres_to_raw_read")),
            NONE,
        ),
        (
            "command latency p50 / p99",
            _pair(r.get("command_latency_ms"), " ms"),
            *(NONE,) * 4,
        ),
        (
            "case load p50 / p99",
            _pair(r.get("case_load_ms"), " ms"),
            *(NONE,) * 4,
        ),
        (
            "append-to-visible lag p50 / p99",
            _pair(r.get("lag_ms"), " ms"),
            *(NONE,) * 4,
        ),
        (
            "worker peak RSS",
            _n(r.get("worker_peak_rss_mb"), " MB"),
            *(NONE,) * 4,
        ),
    ]
    return out


def table(r: dict[str, Any]) -> Table:
    t = Table(title=f"doorstroom bench: {_n(r.get('events'))} events")
    for name in HEADER:
        t.add_column(name, justify="left" if name == "figure" else "right")
    for row in rows(r):
        t.add_row(*row)
    return t


def machine_line(r: dict[str, Any]) -> str:
    m = r.get("machine", {})
    return (
        f"{m.get('cpus')} CPUs, {m.get('processor')}, {m.get('platform')}, "
        f"Python {m.get('python')}, {m.get('nats_server')} on the same machine"
    )


def markdown_section(r: dict[str, Any]) -> str:
    """The table with when, where and how it was made."""
    lines = [
        f"Measured by `{r.get('command')}` on {r.get('started_at')} (UTC): "
        f"{_n(r.get('events'))} events of {_n(r.get('simulation', {}).get('clients'))} "
        f"simulated clients in {r.get('simulation', {}).get('offices')} offices; "
        f"{machine_line(r)}.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(HEADER) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows(r)]
    return "\n".join(lines) + "\n"


def write_markdown(path: Path, section: str) -> None:
    """Into a file with the bench markers: only between them; otherwise the whole file."""
    block = f"{START}\n{section}{END}"
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if START in text and END in text:
            pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
            path.write_text(pattern.sub(lambda _: block, text, count=1), encoding="utf-8")
            return
    path.write_text(section, encoding="utf-8")
