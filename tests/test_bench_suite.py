"""`doorstroom bench`: the suite on a tiny stream writes every key with a measured number."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.bench.report import END, START, markdown_section, write_markdown
from services.bench.suite import KEYS

PAIRS = ("command_latency_ms", "case_load_ms", "lag_ms")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


@pytest.mark.slow
def test_the_suite_on_a_tiny_stream_writes_every_key(tmp_path: Path) -> None:
    out, readme = tmp_path / "out.json", tmp_path / "README.md"
    readme.write_text(f"# X\n\nbefore\n{START}\nold table\n{END}\nafter\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTROOM_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.cli",
            "bench",
            "--events",
            "2000",
            "--offices",
            "4",
            "--json",
            str(out),
            "--markdown",
            str(readme),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert set(KEYS) <= results.keys()
    assert results["rebuild_postgres_events_per_s"] is None  # no DSN given
    for key in set(KEYS) - {"machine", "rebuild_postgres_events_per_s", *PAIRS}:
        assert _is_number(results[key]), key
    for key in PAIRS:
        assert _is_number(results[key]["p50"]), key
        assert _is_number(results[key]["p99"]), key
        assert results[key]["p50"] <= results[key]["p99"]
    assert results["machine"]["cpus"]
    assert results["machine"]["nats_server"]
    assert results["events"] >= 1000
    assert results["peer_app"]["refused"] == 0
    text = readme.read_text()
    assert text.startswith("# X\n\nbefore\n")
    assert text.endswith(f"{END}\nafter\n")
    assert "old table" not in text
    assert "doorstroom bench --events 2000" in text


def test_markdown_without_markers_writes_the_section_alone(tmp_path: Path) -> None:
    results = {"events": 10, "append_events_per_s": 5, "command": "doorstroom bench --events 10"}
    path = tmp_path / "bench.md"
    write_markdown(path, markdown_section(results))
    text = path.read_text()
    assert "`doorstroom bench --events 10`" in text
    assert "| bulk append, events/s | 5 |" in text
