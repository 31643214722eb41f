"""Application.handle_many on a real nats-server: the same outcomes as handle, in bulk."""

from __future__ import annotations

import gc
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from events.registry import registry
from services.app import Application, Handled
from services.bulk import MIDDLE_EVERY, fewer_collections
from services.cases import CaseRepository, LoadedCase
from services.commands import Command, PersonalCommand
from services.commands.aid import ReceiveAidRequest
from services.commands.guidance import CompleteIntake, StartTrajectory
from services.commands.outflow import VerifyEmployment
from services.commands.placements import StartPlacement
from services.commands.privacy import ErasePersonData, RequestErasure
from services.domain import CaseFold, CaseState, DomainError, derived_event_id
from services.embedded import NatsServer
from services.store import EventStore
from services.vault import KeyVault
from tests.support.domain import TRAJECTORY, Case, context
from tests.support.import_lines import histories
from tests.support.stack import store_on


@pytest.fixture
async def parts(
    nats_server: NatsServer, tmp_path: Path
) -> AsyncIterator[tuple[EventStore, KeyVault]]:
    async with store_on(nats_server.url, tmp_path, registry()) as found:
        yield found


def app_on(store: EventStore, vault: KeyVault) -> Application:
    return Application(CaseRepository(store, CaseFold()), eraser=vault)


async def test_commands_of_many_cases_are_stored_in_order_with_their_results(
    parts: tuple[EventStore, KeyVault],
) -> None:
    store, vault = parts
    commands = histories(20)
    outcomes = await app_on(*parts).handle_many([(c, context()) for c in commands])
    assert all(isinstance(o, Handled) and not o.duplicate for o in outcomes)
    for command, outcome in zip(commands, outcomes, strict=True):
        assert isinstance(outcome, Handled)
        assert outcome.event_ids == (derived_event_id(command.command_id, 0),)
    case = commands[0].case_id
    stored = await store.read_case(case)
    mine = [o for c, o in zip(commands, outcomes, strict=True) if c.case_id == case]
    assert [r.seq for r in stored] == [o.last_seq for o in mine]  # type: ignore[union-attr]
    assert [r.case_version for r in stored] == list(range(1, 11))
    assert await store.last_seq() == len(commands)
    fresh = await app_on(store, vault).handle_many([(c, context()) for c in commands])
    assert [(o.last_seq, o.duplicate) for o in fresh] == [  # type: ignore[union-attr]
        (o.last_seq, True)  # type: ignore[union-attr]
        for o in outcomes
    ]
    assert await store.last_seq() == len(commands)


async def test_a_refused_command_does_not_stop_the_rest_of_its_case(
    parts: tuple[EventStore, KeyVault],
) -> None:
    case = Case()
    placement = case.cmd(StartPlacement)  # no trajectory yet
    later = [case.cmd(StartTrajectory, trajectory_id=TRAJECTORY), case.cmd(StartPlacement)]
    batch: list[Command] = [case.cmd(ReceiveAidRequest), placement, *later]
    outcomes = await app_on(*parts).handle_many([(c, context()) for c in batch])
    assert isinstance(outcomes[1], DomainError)
    assert outcomes[1].code == "no_open_trajectory"
    assert [o.case_version for o in outcomes if isinstance(o, Handled)] == [1, 2, 3]


async def test_the_same_command_twice_in_one_batch_is_stored_once(
    parts: tuple[EventStore, KeyVault],
) -> None:
    receive = Case().cmd(ReceiveAidRequest)
    first, second = await app_on(*parts).handle_many([(receive, context())] * 2)
    assert isinstance(first, Handled)
    assert second == Handled(first.case_id, 1, first.last_seq, first.event_ids, duplicate=True)
    assert await parts[0].last_seq() == 1


async def test_a_case_with_more_events_than_a_batch_is_written_in_rounds(
    parts: tuple[EventStore, KeyVault], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("services.bulk.MAX_BATCH", 3)
    commands = histories(2, interleaved=False)
    outcomes = await app_on(*parts).handle_many([(c, context()) for c in commands])
    assert [o.case_version for o in outcomes] == [*range(1, 11)] * 2  # type: ignore[union-attr]


async def test_an_erasure_in_bulk_destroys_the_key_before_later_commands(
    parts: tuple[EventStore, KeyVault],
) -> None:
    store, vault = parts
    commands = histories(1, interleaved=False)
    case = Case(commands[0].case_id)
    person = next(c.person_ref for c in commands if isinstance(c, PersonalCommand))
    erase = [
        case.cmd(RequestErasure, person_ref=person),
        case.cmd(ErasePersonData, person_ref=person),
    ]
    intake = case.cmd(CompleteIntake, person_ref=person)
    outcomes = await app_on(store, vault).handle_many(
        [(c, context()) for c in [*commands, *erase, intake]]
    )
    assert isinstance(outcomes[-2], Handled)
    assert isinstance(outcomes[-1], DomainError)
    assert outcomes[-1].code == "person_erased"
    assert vault.erased_at(person) is not None


class Intruding(CaseRepository[CaseState]):
    """Another writer appends to the first case loaded, right after the load."""

    def __init__(self, store: EventStore, intruder: Application) -> None:
        super().__init__(store, CaseFold())
        self.intruder = intruder
        self.done = False

    async def load(self, case_id: uuid.UUID) -> LoadedCase[CaseState]:
        loaded = await super().load(case_id)
        if loaded.state.exists and not self.done:
            self.done = True
            await self.intruder.handle(Case(case_id).cmd(VerifyEmployment), context())
        return loaded


async def test_a_case_changed_meanwhile_is_decided_again(
    parts: tuple[EventStore, KeyVault],
) -> None:
    store, vault = parts
    case = Case()
    await app_on(store, vault).handle(case.cmd(ReceiveAidRequest), context())
    app = Application(Intruding(store, app_on(store, vault)))
    (outcome,) = await app.handle_many([(case.cmd(StartTrajectory), context())])
    assert isinstance(outcome, Handled)
    assert outcome.case_version == 3
    names = [r.name for r in await store.read_case(case.case_id)]
    assert names == ["AidRequestReceived", "EmploymentVerified", "TrajectoryStarted"]


def test_a_bulk_run_collects_the_young_and_middle_generations_rarely_and_restores_them() -> None:
    before = gc.get_threshold()
    with fewer_collections(threshold=12_345):
        assert gc.get_threshold() == (12_345, MIDDLE_EVERY, before[2])
    assert gc.get_threshold() == before
