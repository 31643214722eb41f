"""`doorstroom run` serves the HTTP API on a real port until it is stopped; the HTTP bench runs."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from uuid import uuid4

import httpx

from services.bench.http import run_benchmark

DOORSTROOM = [sys.executable, "-m", "services.cli"]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTROOM_")}
    return {**env, "DOORSTROOM_DATA_DIR": str(tmp_path / "var"), **extra}


def wait_for_line(proc: subprocess.Popen[str], pattern: str, timeout: float = 90) -> re.Match[str]:
    """Read the process's stderr until a line matches (the process says it is ready)."""
    assert proc.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        if not selector.select(deadline - time.monotonic()):
            break
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if found := re.search(pattern, line):
            return found
    raise AssertionError(f"no line matching {pattern!r} in: {''.join(seen)}")


def test_run_serves_the_api_on_the_configured_port_until_stopped(tmp_path: Path) -> None:
    env = clean_env(tmp_path, DOORSTROOM_HTTP_PORT="0", DOORSTROOM_HTTP_HOST="127.0.0.1")
    issued = subprocess.run(
        [
            *DOORSTROOM,
            "tokens",
            "issue",
            "--office",
            "31004",
            "--user",
            "u-1",
            "--role",
            "inspector",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    token = issued.stdout.strip()
    proc = subprocess.Popen([*DOORSTROOM, "run"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = wait_for_line(proc, r"HTTP API at (http://[0-9.:]+)").group(1)
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.get("/health").json() == {"status": "ok"}
            assert "/commands/RegisterPerson" in client.get("/openapi.json").json()["paths"]
            headers = {"Authorization": f"Bearer {token}"}
            missing = client.get(f"/cases/{uuid4()}/timeline", headers=headers)
            assert (missing.status_code, missing.json()["code"]) == (404, "case_not_found")
            assert client.get(f"/cases/{uuid4()}/timeline").status_code == 401
            metrics = client.get("/metrics").text
            assert 'doorstroom_projection_lag_events{projection="caseload.v1"}' in metrics
    finally:
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 0, rest
    assert "stopping" in rest
    assert not (tmp_path / "var" / "nats" / "server.pid").exists()


async def test_the_http_benchmark_drives_commands_and_reads_timelines() -> None:
    figures = await run_benchmark(rate=40, seconds=1, cases=10, log=lambda _: None)
    assert figures["commands"]["statuses"] == {"200": 40}
    assert figures["events_on_stream"] == 40
    assert figures["timeline_reads"]["n"] == 10
    assert {"p50_ms", "p99_ms"} <= figures["commands"]["latency_from_due"].keys()
