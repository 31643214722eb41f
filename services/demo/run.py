"""Generate every demo story and send it through ``Application.handle_many``."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Final

from events.base import Role
from events.envelope import BRUSSELS
from projections.rules import default_rules
from services.app import Application, Handled
from services.commands import Command
from services.commands.aid import ReceiveAidRequest
from services.commands.subsidies import RegisterLapEngagement
from services.demo.activation import activate
from services.demo.cases import CaseWriter
from services.demo.leaving import close, leave
from services.demo.money import money
from services.demo.offices import OFFICES, OfficeProfile
from services.demo.story import DEMO_END, Staff, Story
from services.domain import Context

SEED: Final = 2025


@dataclass
class DemoReport:
    """What a fill did: cases per office, commands stored, and any refusal (a bug)."""

    cases: dict[str, int] = field(default_factory=dict)
    commands: int = 0
    stored: int = 0
    already_stored: int = 0
    refused: list[tuple[Command, Exception]] = field(default_factory=list)


def demo_items(now: datetime, seed: int = SEED) -> Iterator[tuple[Command, Context]]:
    """Every demo command with its context, case by case, each case in date order."""
    for profile in OFFICES:
        yield from office_items(profile, now, seed)


def office_items(
    profile: OfficeProfile, now: datetime, seed: int = SEED
) -> Iterator[tuple[Command, Context]]:
    """The commands of one office's ledger and cases (also used by the import benchmark)."""
    until = min(DEMO_END, now.astimezone(BRUSSELS).date())
    rules = default_rules()
    staff = Staff(profile.nis, profile.social_workers, profile.counsellors, profile.counsellor_role)
    for command, actor in _ledger(profile, staff).commands(until):
        yield command, Context(actor=actor, office_id=profile.nis, now=now)
    for number in range(1, profile.cases + 1):
        rng = random.Random(f"{seed}/{profile.nis}/{number}")  # noqa: S311 - seeded demo
        writer = CaseWriter(profile, number, rng, rules, staff)
        if writer.open():
            placement, employer = activate(writer)
            money(writer, until)
            leave(writer, placement, employer)
            close(writer)
        for command, actor in writer.story.commands(until):
            yield command, Context(actor=actor, office_id=profile.nis, now=now)


def _ledger(profile: OfficeProfile, staff: Staff) -> Story:
    """The office's ledger case: its engagement in the second LAP call."""
    story = Story(profile.nis, "ledger")
    story.add(
        "lap-call-2",
        RegisterLapEngagement,
        date(2024, 11, 20),
        staff.actor(Role.HEAD_OF_SERVICE),
        call_id="lap-call-2",
        call_from=date(2024, 12, 1),
        call_to=date(2025, 11, 30),
        baseline_people=profile.lap_baseline,
        extra_people=profile.lap_extra,
        budget_cents=profile.lap_budget_cents,
        rule_version="lap-call-2",
    )
    return story


async def fill_demo(app: Application, *, now: datetime | None = None) -> DemoReport:
    """Write the demo through the application service; a second run stores nothing."""
    items = list(demo_items(now or datetime.now(UTC)))
    report = DemoReport(commands=len(items))
    cases: Counter[str] = Counter(
        ctx.office_id for command, ctx in items if isinstance(command, ReceiveAidRequest)
    )
    report.cases = dict(sorted(cases.items()))
    for (command, _), outcome in zip(items, await app.handle_many(items), strict=True):
        if not isinstance(outcome, Handled):
            report.refused.append((command, outcome))
        elif outcome.duplicate:
            report.already_stored += 1
        else:
            report.stored += 1
    return report
