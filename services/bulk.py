"""Many commands at once: decide each case in memory, store the cases in atomic batches.

``handle_many`` is the bulk form of ``Application.handle`` (bulk import, demo data): it
loads every case once, decides its commands in order on the state in memory, merges each
case's events into one append and writes them with ``EventStore.append_many``. A case's
events of one round go in one atomic batch, so an interrupted run leaves every case at a
command boundary, and a re-run skips the commands already stored (by command id).
"""

from __future__ import annotations

import asyncio
import gc
from collections import deque
from collections.abc import Awaitable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Final, TypeVar, cast
from uuid import UUID

from events.codec import RecordedEvent
from services.app import Application, Handled, drafts
from services.cases import LoadedCase
from services.commands import Command
from services.commands.privacy import ErasePersonData
from services.domain import CaseState, Context, DomainError, check_visible, decide, evolve
from services.domain.state import Applied
from services.store import MAX_BATCH, AppendResult, ConcurrencyError, Draft

IN_FLIGHT: Final = 128
MIDDLE_EVERY: Final = 1000
MAX_CONFLICTS: Final = 3

T = TypeVar("T")
Item = tuple[Command, Context]
Outcome = Handled | DomainError | ConcurrencyError


@dataclass
class _Plan:
    """One case's commands of one round: decided in memory, appended together."""

    loaded: LoadedCase[CaseState]
    state: CaseState
    taken: list[int] = field(default_factory=list)  # items consumed this round, in order
    drafts: list[Draft] = field(default_factory=list)
    accepted: list[tuple[int, int]] = field(default_factory=list)  # (item, its first draft)
    outcomes: dict[int, Outcome] = field(default_factory=dict)  # refusals, earlier results
    repeats: dict[int, int] = field(default_factory=dict)  # item -> item with the same id


async def handle_many(app: Application, items: Sequence[Item]) -> list[Outcome]:
    """The outcome of every command, in the order given; commands of one case run in order.

    A refusal (``DomainError``) of one command does not stop the case's later commands. A
    case that another writer changed meanwhile is loaded and decided again, at most
    ``MAX_CONFLICTS`` times. Other errors (NATS down) propagate: run the same items again.
    """
    outcomes: list[Outcome | None] = [None] * len(items)
    queues: dict[UUID, deque[int]] = {}
    for i, (command, _) in enumerate(items):
        queues.setdefault(command.case_id, deque()).append(i)
    conflicts: dict[UUID, int] = {}
    while queues:
        loaded = await _load_all(app, queues)
        plans: list[_Plan] = []
        for case_id, queue in queues.items():
            if isinstance(items[queue[0]][0], ErasePersonData):
                i = queue.popleft()
                outcomes[i] = await _single(app, *items[i])
                continue
            plans.append(_plan(loaded[case_id], queue, items))
        writes = [p for p in plans if p.drafts]
        results = await app.cases.store.append_many([(p.loaded.head, p.drafts) for p in writes])
        keeping: list[Awaitable[LoadedCase[CaseState]]] = []
        for plan, result in zip(writes, results, strict=True):
            if isinstance(result, ConcurrencyError):
                _conflict(app, plan, result, queues, conflicts)
            else:
                keeping.append(_stored(app, plan, result, items))
        for plan in plans:
            _settle(plan, outcomes)
        await _limited(keeping)
        queues = {case: queue for case, queue in queues.items() if queue}
    if any(o is None for o in outcomes):
        raise RuntimeError("handle_many left a command without an outcome")
    return cast(list[Outcome], outcomes)


async def _single(app: Application, command: Command, ctx: Context) -> Outcome:
    try:
        return await app.handle(command, ctx)
    except (DomainError, ConcurrencyError) as exc:
        return exc


async def _limited(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Await all, at most ``IN_FLIGHT`` at a time."""
    limit = asyncio.Semaphore(IN_FLIGHT)

    async def one(awaitable: Awaitable[T]) -> T:
        async with limit:
            return await awaitable

    return await asyncio.gather(*(one(a) for a in awaitables))


async def _load_all(app: Application, cases: Iterable[UUID]) -> dict[UUID, LoadedCase[CaseState]]:
    ids = list(cases)
    return dict(zip(ids, await _limited(app.cases.load(c) for c in ids), strict=True))


def _plan(loaded: LoadedCase[CaseState], queue: deque[int], items: Sequence[Item]) -> _Plan:
    """Decide the case's queued commands until an erasure, another office or a full batch."""
    plan = _Plan(loaded, loaded.state)
    first_of: dict[UUID, int] = {}
    office = None
    while queue:
        i = queue[0]
        command, ctx = items[i]
        if isinstance(command, ErasePersonData) or office not in (None, ctx.office_id):
            break
        applied = plan.state.applied.get(command.command_id)
        if applied is not None:
            if command.command_id in first_of:
                plan.repeats[i] = first_of[command.command_id]
            else:
                plan.outcomes[i] = _earlier(plan.state, command, ctx, applied)
            plan.taken.append(queue.popleft())
            continue
        try:
            events = decide(plan.state, command, ctx)
        except DomainError as refusal:
            plan.outcomes[i] = refusal
            plan.taken.append(queue.popleft())
            continue
        new = drafts(command, ctx, events)
        if plan.drafts and len(plan.drafts) + len(new) > MAX_BATCH:
            break
        office = ctx.office_id
        first_of[command.command_id] = i
        plan.accepted.append((i, len(plan.drafts)))
        plan.state = _fold(plan.state, new, loaded.head.version + len(plan.drafts))
        plan.drafts.extend(new)
        plan.taken.append(queue.popleft())
    return plan


def _earlier(state: CaseState, command: Command, ctx: Context, applied: Applied) -> Outcome:
    """A command stored before: its earlier result, if the office may see the case."""
    try:
        check_visible(state, ctx.office_id)
    except DomainError as refusal:
        return refusal
    ids = tuple(ctx.ids(command.command_id, i) for i in range(applied.events))
    return Handled(command.case_id, applied.version, applied.seq, ids, duplicate=True)


def _fold(state: CaseState, new: Sequence[Draft], version: int) -> CaseState:
    """The state after ``new``; the stream sequences are filled in once they are stored."""
    for n, draft in enumerate(new, start=1):
        event = draft.event
        personal = event.personal_fields()
        rec = RecordedEvent(
            meta=draft.meta,
            event=event.model_copy(update=dict.fromkeys(personal)) if personal else event,
            stored_type=event.stored_type(),
            case_version=version + n,
            prev_hash="",
            hash="",
            sealed=bool(personal),
        )
        state = evolve(state, rec)
    return state


def _conflict(
    app: Application,
    plan: _Plan,
    conflict: ConcurrencyError,
    queues: dict[UUID, deque[int]],
    conflicts: dict[UUID, int],
) -> None:
    """Another writer changed the case: decide its commands again, or give up on them."""
    case_id = plan.loaded.head.case_id
    app.cases.forget(case_id)
    conflicts[case_id] = conflicts.get(case_id, 0) + 1
    if conflicts[case_id] < MAX_CONFLICTS:
        queues[case_id].extendleft(reversed(plan.taken))
        plan.outcomes.clear()
        plan.repeats.clear()
    else:
        plan.outcomes.update(dict.fromkeys((i for i, _ in plan.accepted), conflict))


def _stored(
    app: Application, plan: _Plan, result: AppendResult, items: Sequence[Item]
) -> Awaitable[LoadedCase[CaseState]]:
    """The results of the accepted commands; keep the case state with its real sequences."""
    applied = dict(plan.state.applied)
    ends = [start for _, start in plan.accepted[1:]] + [len(plan.drafts)]
    for (i, start), end in zip(plan.accepted, ends, strict=True):
        command = items[i][0]
        version = plan.loaded.head.version + end
        ids = tuple(d.meta.event_id for d in plan.drafts[start:end])
        seq = result.seqs[end - 1]
        plan.outcomes[i] = Handled(command.case_id, version, seq, ids)
        applied[command.command_id] = Applied(version=version, seq=seq, events=len(ids))
    state = plan.state.model_copy(update={"applied": applied})
    return app.cases.keep(LoadedCase(result.head, state, plan.loaded.snapshot_version))


def _settle(plan: _Plan, outcomes: list[Outcome | None]) -> None:
    for i, outcome in plan.outcomes.items():
        outcomes[i] = outcome
    for i, first in plan.repeats.items():
        earlier = plan.outcomes[first]
        outcomes[i] = replace(earlier, duplicate=True) if isinstance(earlier, Handled) else earlier


@contextmanager
def fewer_collections(threshold: int = 50_000) -> Iterator[None]:
    """Collect garbage less often while a bulk run makes many short-lived objects.

    A bulk import allocates millions of small objects that die young; the default
    threshold (700) runs the young-generation collector thousands of times for nothing.
    What survives (the case states kept for the next chunk) piles up in the middle
    generation, which the default runs over every 10 young collections: on a 100,000-line
    import that cost a second of 16 rescanning the same states. It now runs only every
    ``MIDDLE_EVERY`` young collections; the states are freed by reference counting anyway.
    """
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(threshold, MIDDLE_EVERY, before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
