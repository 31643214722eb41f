"""The application service every entry point calls: load the case, decide, append.

``await app.handle(command, ctx)`` loads the case through the repository, lets the domain
decide, wraps the events in envelopes and appends them atomically; a concurrent write is
retried once on the reloaded case. A command already applied (same command id) returns its
earlier result and stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol
from uuid import UUID

from events.base import DomainEvent
from events.envelope import EventMeta
from services.cases import CaseRepository, LoadedCase
from services.commands import Command, PersonalCommand
from services.commands.privacy import ErasePersonData
from services.domain import CaseState, Context, DomainError, check_visible, decide
from services.store import ConcurrencyError, Draft

Authorize = Callable[[CaseState, Context, str | None], None]
"""An entry point's check of the user on the loaded case (``services.access``): it gets the
command's name, or None for a read, and raises ``DomainError`` to refuse."""


class Eraser(Protocol):
    """Destroys a person's key; True if a key existed (the key vault)."""

    def erase(self, person_ref: UUID) -> bool: ...


@dataclass(frozen=True, slots=True)
class Handled:
    """Where a command's events landed."""

    case_id: UUID
    case_version: int
    last_seq: int
    event_ids: tuple[UUID, ...]
    duplicate: bool = False


def drafts(command: Command, ctx: Context, events: Sequence[DomainEvent]) -> list[Draft]:
    """The events of ``command`` in their envelopes; only the first one is the correction."""
    person_ref = command.person_ref if isinstance(command, PersonalCommand) else None
    return [
        Draft(
            EventMeta.of_validated(
                event_id=ctx.ids(command.command_id, i),
                office_id=ctx.office_id,
                case_id=command.case_id,
                occurred_on=command.occurred_on,
                recorded_at=ctx.now,
                actor=ctx.actor,
                evidence=command.evidence,
                legal_basis=command.legal_basis,
                rule_version=command.rule_version,
                correlation_id=ctx.correlation_id or command.command_id,
                causation_id=command.command_id,
                person_ref=person_ref,
                corrects=command.corrects if i == 0 else None,
            ),
            event,
        )
        for i, event in enumerate(events)
    ]


class Application:
    """Use cases on cases: one ``handle`` for every command, ``read`` for one case."""

    def __init__(self, cases: CaseRepository[CaseState], eraser: Eraser | None = None) -> None:
        self.cases = cases
        self.eraser = eraser

    async def handle(
        self, command: Command, ctx: Context, *, authorize: Authorize | None = None
    ) -> Handled:
        """Decide and store ``command``; ``authorize`` checks the user on the loaded case
        (after the office: another office's case stays not found) before deciding."""
        if isinstance(command, ErasePersonData):
            ctx = await self._destroy_key(command, ctx, authorize)
        try:
            return await self._load_decide_append(command, ctx, authorize)
        except ConcurrencyError:
            return await self._load_decide_append(command, ctx, authorize)

    async def handle_many(
        self, items: Sequence[tuple[Command, Context]]
    ) -> list[Handled | DomainError | ConcurrencyError]:
        """Bulk ``handle`` (import, demo): cases decided in memory, stored in atomic batches.

        Outcomes come in the order of ``items``; see ``services.bulk``.
        """
        from services.bulk import handle_many

        return await handle_many(self, items)

    async def read(
        self, case_id: UUID, ctx: Context, *, authorize: Authorize | None = None
    ) -> LoadedCase[CaseState]:
        """The case as the office of ``ctx`` may see it: another office's case does not exist."""
        loaded = await self.cases.load(case_id)
        check_visible(loaded.state, ctx.office_id)
        if authorize is not None:
            authorize(loaded.state, ctx, None)
        return loaded

    async def _load_decide_append(
        self, command: Command, ctx: Context, authorize: Authorize | None
    ) -> Handled:
        """Decide on the cached state first, without asking NATS for the case's head.

        Appending names the head the decision rests on, so a cache that is behind another
        writer cannot store anything: the append fails and the case is loaded as stored and
        decided again. A refusal on the cached state is checked on the stored state too, so
        nobody is refused for what another writer has changed meanwhile. This saves a NATS
        round trip (a direct get) per command when the process has seen the case before.
        """
        cached = self.cases.cached(command.case_id)
        if cached is not None:
            try:
                return await self._decide_append(cached, command, ctx, authorize)
            except (DomainError, ConcurrencyError):
                pass  # perhaps only the cache was behind: decide on the case as stored
        elif (opened := await self._open(command, ctx, authorize)) is not None:
            return opened
        loaded = await self.cases.load(command.case_id)
        return await self._decide_append(loaded, command, ctx, authorize)

    async def _open(
        self, command: Command, ctx: Context, authorize: Authorize | None
    ) -> Handled | None:
        """A case this process does not hold, decided as a new case without reading it.

        Only a command that opens a case (the aid request at the counter) is accepted on an
        empty case; it is appended expecting no event of the case at all, so if the case
        exists the server stores nothing. Every other outcome (a refusal, a lost race, a
        duplicate, which must be answered by the office check on the stored case) gives
        None: the caller then loads the case as stored. This saves the snapshot and head
        reads, two NATS round trips, on the first command of every new case.
        """
        try:
            handled = await self._decide_append(
                self.cases.empty(command.case_id), command, ctx, authorize
            )
        except (DomainError, ConcurrencyError):
            return None
        if handled.duplicate:
            self.cases.forget(command.case_id)
            return None
        return handled

    async def _decide_append(
        self,
        loaded: LoadedCase[CaseState],
        command: Command,
        ctx: Context,
        authorize: Authorize | None,
    ) -> Handled:
        if (earlier := _earlier(loaded, command, ctx)) is not None:
            return earlier
        _authorized(loaded.state, command, ctx, authorize)
        new = drafts(command, ctx, decide(loaded.state, command, ctx))
        result = await self.cases.append(loaded, new)
        ids = tuple(d.meta.event_id for d in new)
        return Handled(command.case_id, result.head.version, result.last_seq, ids, result.duplicate)

    async def _destroy_key(
        self, command: ErasePersonData, ctx: Context, authorize: Authorize | None
    ) -> Context:
        """Check the erasure is allowed, destroy the key, and let the event say what happened."""
        loaded = await self.cases.load(command.case_id)
        if _earlier(loaded, command, ctx) is not None:
            return ctx
        _authorized(loaded.state, command, ctx, authorize)
        decide(loaded.state, command, replace(ctx, key_destroyed=False))
        if self.eraser is None:
            raise RuntimeError("ErasePersonData needs a key vault (Application(eraser=...))")
        return replace(ctx, key_destroyed=self.eraser.erase(command.person_ref))


def _authorized(
    state: CaseState, command: Command, ctx: Context, authorize: Authorize | None
) -> None:
    """Run the entry point's user check; another office's case is refused as not found first."""
    if authorize is None:
        return
    if state.exists:
        check_visible(state, ctx.office_id)
    authorize(state, ctx, command.command_name)


def _earlier(loaded: LoadedCase[CaseState], command: Command, ctx: Context) -> Handled | None:
    """The result of ``command`` if it was applied before (a retry), else None."""
    applied = loaded.state.applied.get(command.command_id)
    if applied is None:
        return None
    check_visible(loaded.state, ctx.office_id)
    ids = tuple(ctx.ids(command.command_id, i) for i in range(applied.events))
    return Handled(command.case_id, applied.version, applied.seq, ids, duplicate=True)
