"""Generate a simulation into a directory, and import it in the manifest's order."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import orjson

from events.base import Role
from projections.rules import RuleBook, default_rules
from services.bulk import fewer_collections
from services.commands.rights import RecordLeefloonPayment
from services.commands.subsidies import RegisterLapEngagement
from services.demo.story import Story
from services.domain.deadlines import add_months
from services.import_workers import import_on
from services.importer import CHUNK_LINES, KEEP_REJECTS, ImportSummary
from services.runtime import build_application, open_runtime
from services.settings import Settings
from services.simulate.cases import Recorded, Window, case_commands
from services.simulate.offices import (
    SimOffice,
    build_offices,
    employer_pool,
    lap_calls,
    refund_tier,
)
from services.simulate.output import Output

PILOT_CLIENTS: Final = 200
"""Clients generated first (and thrown away) to measure events and paid months per client."""
MANIFEST: Final = "manifest.json"
OFFICES_FILE: Final = "offices.json"


@dataclass(frozen=True)
class SimulationConfig:
    offices: int = 300
    clients: int = 150_000
    events: int | None = None
    """Approximate events wanted; overrides ``clients`` when given."""
    years: float = 5.0
    start: date | None = None
    """First day; default: the first day the rule book has leefloon amounts for."""
    seed: int = 1
    employers: int = 3_000
    phase_months: int = 6


def window(config: SimulationConfig, rules: RuleBook, today: date) -> Window:
    """The simulated period: inside the rule book's amounts, never after today."""
    covered = min(v.valid_from for v in rules.rules["leefloon"].versions)
    first = config.start or covered
    if first < covered:
        raise ValueError(
            f"start: the rule book has leefloon amounts from {covered} only "
            "(projections/rules/data/leefloon.toml); add earlier versions with their source"
        )
    last = min(add_months(first, round(config.years * 12)), today)
    if last <= first:
        raise ValueError(f"the window from {first} ends after today ({today})")
    return Window(first, last)


def simulate(
    config: SimulationConfig,
    directory: Path,
    *,
    today: date,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Write the simulation's files and manifest into ``directory`` (new or empty)."""
    rules = default_rules()
    span = window(config, rules, today)
    if directory.exists() and any(directory.iterdir()):
        raise ValueError(f"{directory} is not empty")
    directory.mkdir(parents=True, exist_ok=True)
    employers = employer_pool(config.employers, config.seed)
    events_per_client, paid_months = _pilot(config, rules, span, employers)
    clients = config.clients
    if config.events is not None:
        clients = max(1, math.ceil(config.events / events_per_client))
    offices = build_offices(config.offices, clients, employers, config.seed)
    months = max(1, (span.last - span.first).days / 30.44)
    log(
        f"{clients} clients in {len(offices)} offices from {span.first} to {span.last}; "
        f"about {events_per_client:.0f} events a client"
    )
    output = Output(directory, span.first, config.phase_months)
    transfers = _cases(config, rules, span, offices, clients, paid_months / months, output, log)
    for office in offices:
        yearly = clients * office.weight * 12 / months
        for record in _ledger(config, rules, office, yearly, span):
            output.add(record)
    files = output.close()
    (directory / OFFICES_FILE).write_bytes(
        orjson.dumps({o.nis: o.name for o in offices}, option=orjson.OPT_INDENT_2)
    )
    manifest = {
        "generator": "doorstroom simulate",
        "seed": config.seed,
        "first_day": span.first.isoformat(),
        "last_day": span.last.isoformat(),
        "phase_months": config.phase_months,
        "offices": len(offices),
        "clients": clients,
        "employers": len(employers),
        "commands": sum(output.lines.values()),
        "events_estimate": output.events_estimate,
        "transfers": transfers,
        "late_recordings": output.late,
        "commands_by_kind": dict(sorted(output.kinds.items())),
        "offices_file": OFFICES_FILE,
        "files": files,
    }
    (directory / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")
    return manifest


def _cases(
    config: SimulationConfig,
    rules: RuleBook,
    span: Window,
    offices: list[SimOffice],
    clients: int,
    paid_per_month: float,
    output: Output,
    log: Callable[[str], None],
) -> int:
    """Every client's case, each in a seeded office; the number of transfers."""
    assign = random.Random(f"{config.seed}/assign")  # noqa: S311 - seeded simulation
    cum: list[float] = []
    for office in offices:
        cum.append((cum[-1] if cum else 0.0) + office.weight)
    tiers = {
        o.nis: refund_tier(rules, clients * o.weight * paid_per_month, span.first) for o in offices
    }
    numbers = dict.fromkeys(tiers, 0)
    transfers = 0
    for n in range(clients):
        office = assign.choices(offices, cum_weights=cum)[0]
        numbers[office.nis] += 1
        number = numbers[office.nis]
        rng = random.Random(f"{config.seed}/{office.nis}/{number}")  # noqa: S311
        records = case_commands(
            office,
            number,
            rng,
            rules,
            span,
            refund_tier=tiers[office.nis],
            key_prefix=f"sim/{config.seed}/",
            destinations=offices,
            cum_weights=cum,
        )
        transfers += any(r.hop for r in records)
        for record in records:
            output.add(record)
        if (n + 1) % 10_000 == 0:
            log(f"  {n + 1} clients, {sum(output.lines.values())} commands")
    return transfers


def _pilot(
    config: SimulationConfig, rules: RuleBook, span: Window, employers: Any
) -> tuple[float, float]:
    """Events and paid leefloon months per client, measured on clients thrown away."""
    office = build_offices(1, PILOT_CLIENTS, employers, config.seed)[0]
    events = paid = 0
    for number in range(1, PILOT_CLIENTS + 1):
        rng = random.Random(f"{config.seed}/pilot/{number}")  # noqa: S311
        records = case_commands(
            office,
            number,
            rng,
            rules,
            span,
            refund_tier=55,
            key_prefix="pilot/",
            destinations=[office],
            cum_weights=[1.0],
        )
        for record in records:
            events += 1 + (record.command.command_name == "RecordOutflow")
            paid += isinstance(record.command, RecordLeefloonPayment)
    return events / PILOT_CLIENTS, paid / PILOT_CLIENTS


def _ledger(
    config: SimulationConfig, rules: RuleBook, office: SimOffice, yearly: float, span: Window
) -> list[Recorded]:
    """The office's ledger case: its LAP call engagements inside the window."""
    story = Story(office.nis, f"sim/{config.seed}/ledger")
    head = office.staff.actor(Role.HEAD_OF_SERVICE)
    for call in lap_calls(rules, office, yearly, span.first, span.last):
        story.add(
            call.call_id,
            RegisterLapEngagement,
            call.registered_on,
            head,
            call_id=call.call_id,
            call_from=call.call_from,
            call_to=call.call_to,
            baseline_people=call.baseline,
            extra_people=call.extra,
            budget_cents=call.budget_cents,
            rule_version=call.call_id,
        )
    return [Recorded(s.on, s.command, s.actor, office.nis, 0) for s in story.steps]


def read_manifest(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((directory / MANIFEST).read_bytes())
    return data


async def import_simulation(
    settings: Settings,
    directory: Path,
    *,
    chunk_lines: int = CHUNK_LINES,
    workers: int | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> ImportSummary:
    """Import every file in the manifest's order, each for its own office, as
    ``doorstroom import FILE --office X`` does (with ``offices.json`` as the offices file)."""
    manifest = read_manifest(directory)
    settings = settings.model_copy(update={"offices_file": directory / manifest["offices_file"]})
    total = ImportSummary()
    async with open_runtime(settings) as rt:
        app = await build_application(rt)
        with fewer_collections():
            for entry in manifest["files"]:
                summary = await import_on(
                    rt,
                    directory / entry["file"],
                    entry["office"],
                    workers=workers,
                    chunk_lines=chunk_lines,
                    app=app,
                )
                total.read += summary.read
                total.stored += summary.stored
                total.already_stored += summary.already_stored
                total.rejected += summary.rejected
                total.seconds += summary.seconds
                total.rejects.extend(
                    (number, refusal) for number, refusal in summary.rejects[:KEEP_REJECTS]
                )
                if summary.rejected:
                    log(f"{entry['file']}: {summary.rejected} refused lines")
    return total
