"""Bulk-import benchmark: demo-like case histories of one office through ``doorstroom import``.

Run with ``doorstroom bench import``. It writes a JSONL file of invented cases (the demo's
stories for Blankenberge, as many as asked), starts its own nats-server in a temporary
directory, imports the file into an empty stream and then imports it again (everything
already stored), and reports the rates.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from services.bench.store import cpu_with_children, machine, stolen_seconds
from services.bulk import fewer_collections
from services.demo.offices import OFFICES
from services.demo.run import office_items
from services.embedded import NatsServer
from services.import_workers import auto_workers, import_on
from services.importer import ImportSummary
from services.runtime import open_runtime
from services.settings import Settings


def write_lines(path: Path, cases: int) -> tuple[str, int]:
    """The demo stories of ``cases`` cases of the first office as import lines."""
    profile = replace(OFFICES[0], cases=cases)
    count = 0
    with path.open("wb") as out:
        for command, ctx in office_items(profile, datetime.now(UTC)):
            body = command.model_dump(mode="json")
            actor = ctx.actor.model_dump(mode="json")
            out.write(orjson.dumps({"command": command.command_name, "body": body, "actor": actor}))
            out.write(b"\n")
            count += 1
    return profile.nis, count


def _figures(summary: ImportSummary, cpu: float, events: int | None = None) -> dict[str, Any]:
    figures = {
        "seconds": round(summary.seconds, 2),
        "client_cpu_seconds": round(cpu, 2),
        "commands_per_s": round(summary.rate),
        "stored": summary.stored,
        "already_stored": summary.already_stored,
        "rejected": summary.rejected,
    }
    if events is not None:
        figures["events_per_s"] = round(events / summary.seconds)
    return figures


async def run_benchmark(
    *, cases: int, workers: int | None = None, log: Callable[[str], None]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="doorstroom-bench-") as tmp:
        folder = Path(tmp)
        file = folder / "cases.jsonl"
        office, lines = write_lines(file, cases)
        log(f"{lines} lines for {cases} cases ({file.stat().st_size / 1e6:.1f} MB)")
        with NatsServer(store_dir=folder / "nats") as server:
            settings = Settings(nats_url=server.url, data_dir=folder)
            out: dict[str, Any] = {"machine": machine(), "cases": cases, "lines": lines}
            out["workers"] = workers or auto_workers(file.stat().st_size)
            for run in ("first", "again"):
                async with open_runtime(settings) as rt:  # a fresh process each time
                    cpu, server_cpu = cpu_with_children(), server.cpu_seconds()
                    stolen = stolen_seconds()
                    with fewer_collections():
                        summary = await import_on(rt, file, office, workers=workers)
                    cpu, server_cpu = cpu_with_children() - cpu, server.cpu_seconds() - server_cpu
                    stolen = stolen_seconds() - stolen
                    events = (await rt.js.stream_info(settings.stream)).state.messages
                out[run] = _figures(summary, cpu, events if run == "first" else None)
                out[run]["server_cpu_seconds"] = round(server_cpu, 2)
                out[run]["stolen_cpu_seconds"] = round(stolen, 2)
                log(f"{run}: {out[run]}")
            out["events"] = events
        return out
