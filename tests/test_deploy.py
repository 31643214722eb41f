"""docker-compose.yml runs only commands that exist, with settings the code knows."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from services.cli import app
from services.embedded import nats_server_binary
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def doorstroom_services() -> list[tuple[str, list[str]]]:
    out = []
    for name, svc in compose()["services"].items():
        if svc.get("build") == "." and "entrypoint" not in svc:
            out.append((name, list(svc.get("command", ["run"]))))
    return out


def test_compose_has_the_production_shape() -> None:
    services = compose()["services"]
    assert {
        "nats-1",
        "nats-2",
        "nats-3",
        "postgres",
        "command-service",
        "projection-workers",
    } <= set(services)
    env = services["command-service"]["environment"]
    assert env["DOORSTROOM_NATS_URL"].count("nats://") == 3
    assert env["DOORSTROOM_DB"].startswith("postgresql://")
    assert env["DOORSTROOM_REPLICAS"] == "3"


@pytest.mark.parametrize(("service", "command"), doorstroom_services())
def test_every_compose_command_exists_in_the_cli(service: str, command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, f"{service}: doorstroom {' '.join(command)}: {result.output}"
    assert "Usage" in result.output


def test_compose_settings_are_settings_the_code_reads() -> None:
    fields = {f"DOORSTROOM_{name.upper()}" for name in Settings.model_fields}
    for name, svc in compose()["services"].items():
        if svc.get("build") != "." or "entrypoint" in svc:
            continue
        for key in svc.get("environment") or {}:
            if key.startswith("DOORSTROOM_"):
                assert key in fields, f"{name}: {key} is not a setting"


@pytest.mark.parametrize("node", [1, 2, 3])
def test_nats_node_configs_are_valid_for_the_shipped_server(node: int) -> None:
    conf = ROOT / "deploy" / "nats" / f"nats-{node}.conf"
    result = subprocess.run(
        [str(nats_server_binary()), "-c", str(conf), "-t"],
        capture_output=True,
        text=True,
        env={**os.environ, "DOORSTROOM_NATS_PASSWORD": "test-only"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = conf.read_text()
    assert all(f"nats-route://nats-{i}:6222" in text for i in (1, 2, 3))
