"""One simulated case: the demo's story, then perhaps a transfer and some late recordings."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Final

from events.base import Role
from events.envelope import Actor
from projections.rules import RuleBook
from services.commands import Command
from services.commands.activation import LeaveGroupProject, RecordGroupProjectAttendance
from services.commands.case import CloseCase, TransferCase
from services.commands.gpmi import EndGpmi, EvaluateGpmi
from services.commands.outflow import RecordOutflow
from services.commands.rights import EndLeefloon, RecordDecisionNotification
from services.demo.activation import activate
from services.demo.cases import CaseWriter
from services.demo.leaving import close, leave
from services.demo.money import money
from services.demo.story import days
from services.simulate.offices import SimOffice

TRANSFER_SHARE: Final = 0.02
MIN_STEPS_TO_TRANSFER: Final = 12
LATE_SHARE: Final = 0.05
LATE_DAYS: Final = (14, 56)
LATE_KINDS: Final = (RecordDecisionNotification, EvaluateGpmi, RecordGroupProjectAttendance)
"""Commands nothing else rests on, so recording them late changes no later decision."""
BARRIERS: Final = (
    CloseCase,
    TransferCase,
    EndGpmi,
    LeaveGroupProject,
    RecordOutflow,
    EndLeefloon,
)
"""A late recording still comes before these: after them it would be refused (or belong to
another office)."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """A command as it will be recorded: when, by whom, for which office, after which hop."""

    recorded_on: date
    command: Command
    actor: Actor
    office: str
    hop: int  # transfers of the case before this command
    late: bool = False


@dataclass(frozen=True)
class Window:
    first: date
    last: date


def case_commands(
    office: SimOffice,
    number: int,
    rng: random.Random,
    rules: RuleBook,
    window: Window,
    *,
    refund_tier: int,
    key_prefix: str,
    destinations: list[SimOffice],
    cum_weights: list[float],
) -> list[Recorded]:
    """The case's commands in recording order (by business date, late ones moved on)."""
    writer = CaseWriter(
        office.profile,
        number,
        rng,
        rules,
        office.staff,
        first_day=window.first,
        intake_days=max(0, (window.last - window.first).days - 30),
        last_day=window.last,
        refund_tier=refund_tier,
        key_prefix=key_prefix,
    )
    if writer.open():
        placement, employer = activate(writer)
        money(writer, window.last)
        leave(writer, placement, employer)
        close(writer)
    records = [
        Recorded(on, command, actor, office.nis, 0)
        for on, command, actor in _ordered(writer, window.last)
    ]
    if len(records) >= MIN_STEPS_TO_TRANSFER and rng.random() < TRANSFER_SHARE:
        target = rng.choices(destinations, cum_weights=cum_weights)[0]
        if target.nis != office.nis:
            records = _transfer(writer, records, target, rng)
    return _late(records, rng, window.last)


def _ordered(writer: CaseWriter, until: date) -> list[tuple[date, Command, Actor]]:
    steps = sorted(writer.story.steps, key=lambda s: (s.on, s.order))
    return [(s.on, s.command, s.actor) for s in steps if s.on <= until]


def _transfer(
    writer: CaseWriter, records: list[Recorded], target: SimOffice, rng: random.Random
) -> list[Recorded]:
    """The person moves: the source office hands the case over; the target writes the rest."""
    at = rng.randint(len(records) // 4, 3 * len(records) // 4)
    on, source = records[at].recorded_on, writer.profile.nis
    transfer = TransferCase.model_validate(
        {
            "command_id": writer.story.id("command/transfer"),
            "case_id": writer.story.case_id,
            "occurred_on": on,
            "to_office_id": target.nis,
            "reason": "moved_residence",
            "effective_on": on,
        }
    )
    social_worker = writer.actor(Role.SOCIAL_WORKER)
    after = [
        Recorded(r.recorded_on, r.command, _their(r.actor, source, target), target.nis, 1)
        for r in records[at:]
    ]
    return [*records[:at], Recorded(on, transfer, social_worker, source, 0), *after]


def _their(actor: Actor, source: str, target: SimOffice) -> Actor:
    """The same role at the new office (user ids name the office)."""
    user = actor.user_id.replace(f"u-{source}-", f"u-{target.nis}-", 1)
    return Actor(user_id=user, role=actor.role)


def _late(records: list[Recorded], rng: random.Random, last: date) -> list[Recorded]:
    """Record some commands weeks late: later in the case's order, before any barrier."""
    out: list[Recorded] = []
    pending: list[tuple[date, int, Recorded]] = []  # (due, original index, record)
    for i, record in enumerate(records):
        if isinstance(record.command, LATE_KINDS) and rng.random() < LATE_SHARE:
            due = min(record.recorded_on + days(rng.randint(*LATE_DAYS)), last)
            pending.append((due, i, record))
            continue
        barrier = isinstance(record.command, BARRIERS)
        ready = sorted(p for p in pending if barrier or p[0] < record.recorded_on)
        for due, _, late in ready:
            out.append(_moved(late, min(due, record.recorded_on)))
        pending = [p for p in pending if not (barrier or p[0] < record.recorded_on)]
        out.append(record)
    out.extend(_moved(late, due) for due, _, late in sorted(pending))
    return out


def _moved(record: Recorded, on: date) -> Recorded:
    late = on > record.command.occurred_on
    return Recorded(on, record.command, record.actor, record.office, record.hop, late=late)
