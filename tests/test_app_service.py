"""The application service on a real nats-server: envelopes, retries, offices, refusals."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from events.aid import PersonRegistered
from events.envelope import EvidenceRef
from events.privacy import PersonDataErased
from events.registry import registry
from services.app import Application
from services.cases import CaseRepository, LoadedCase
from services.commands import Command
from services.commands.aid import ReceiveAidRequest, RegisterPerson
from services.commands.guidance import CompleteIntake, EndTrajectory, StartTrajectory
from services.commands.outflow import RecordOutflow, VerifyEmployment
from services.commands.placements import StartPlacement
from services.commands.privacy import ErasePersonData, RequestErasure
from services.commands.rights import GrantLeefloon
from services.domain import CaseFold, CaseState, DomainError, derived_event_id
from services.embedded import NatsServer
from services.jsread import last_message
from services.runtime import build_application, open_runtime
from services.settings import Settings
from services.store import ConcurrencyError, EventStore
from services.stream import snapshot_bucket
from services.vault import KeyVault
from tests.fixtures.examples import PERSON
from tests.support.domain import (
    ACTOR,
    GRANT,
    NOW,
    OFFICE,
    OTHER_OFFICE,
    PLACEMENT,
    TRAJECTORY,
    Case,
    context,
)
from tests.support.stack import store_on


@dataclass
class Stack:
    app: Application
    store: EventStore
    vault: KeyVault

    def another_app(self) -> Application:
        """A second process: its own repository and cache over the same stream."""
        return Application(CaseRepository(self.store, CaseFold()), eraser=self.vault)

    async def last_seq(self) -> int:
        return await self.store.last_seq()


@pytest.fixture
async def stack(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Stack]:
    async with store_on(nats_server.url, tmp_path, registry()) as (store, vault):
        yield Stack(Application(CaseRepository(store, CaseFold()), eraser=vault), store, vault)


async def run(app: Application, *commands: Command, office: str = OFFICE) -> None:
    for command in commands:
        await app.handle(command, context(office))


def opening(case: Case) -> list[Command]:
    grant = {"decision_id": GRANT, "effective_until": None}
    return [case.cmd(ReceiveAidRequest), case.cmd(RegisterPerson), case.cmd(GrantLeefloon, **grant)]


async def test_a_command_becomes_events_with_their_envelopes(stack: Stack) -> None:
    case = Case()
    receive = case.cmd(
        ReceiveAidRequest,
        evidence=[{"kind": "document", "ref": "doc-2025-0042"}],
        legal_basis="RMI-wet 26/05/2002 art. 18",
        rule_version="rules-2025.1",
    )
    register = case.cmd(RegisterPerson)
    first = await stack.app.handle(receive, context())
    second = await stack.app.handle(register, context())
    stored = await stack.store.read_case(case.case_id, reveal=True)
    assert [r.name for r in stored] == ["AidRequestReceived", "PersonRegistered"]
    assert (second.case_id, second.case_version, second.last_seq) == (
        case.case_id,
        2,
        stored[1].seq,
    )
    assert first.event_ids == (derived_event_id(receive.command_id, 0),)
    for rec, command in zip(stored, (receive, register), strict=True):
        meta = rec.meta
        assert meta.event_id == derived_event_id(command.command_id, 0)
        assert (meta.office_id, meta.case_id) == (OFFICE, case.case_id)
        assert (meta.occurred_on, meta.recorded_at, meta.actor) == (date(2025, 3, 3), NOW, ACTOR)
        assert meta.correlation_id == meta.causation_id == command.command_id
        assert meta.corrects is None
    assert stored[0].meta.evidence == (EvidenceRef(kind="document", ref="doc-2025-0042"),)
    assert (stored[0].meta.legal_basis, stored[0].meta.rule_version) == (
        "RMI-wet 26/05/2002 art. 18",
        "rules-2025.1",
    )
    assert (stored[0].meta.person_ref, stored[1].meta.person_ref) == (None, PERSON)
    assert isinstance(stored[1].event, PersonRegistered)
    assert stored[1].event.family_name == register.family_name  # sealed, then revealed


async def test_the_entry_points_correlation_id_and_a_correction_go_into_the_envelope(
    stack: Stack,
) -> None:
    case = Case()
    await run(stack.app, *opening(case), case.cmd(StartTrajectory, trajectory_id=TRAJECTORY))
    (started,) = await stack.store.read_case(case.case_id, after_seq=await stack.last_seq() - 1)
    process = uuid.uuid4()
    fix = case.cmd(StartTrajectory, kind="taal", corrects=started.meta.event_id)
    await stack.app.handle(fix, context(correlation_id=process))
    (correction,) = await stack.store.read_case(case.case_id, after_seq=started.seq)
    assert correction.meta.corrects == started.meta.event_id
    assert (correction.meta.correlation_id, correction.meta.causation_id) == (
        process,
        fix.command_id,
    )


async def test_an_outflow_and_what_it_ends_are_stored_as_one_command(stack: Stack) -> None:
    case = Case()
    await run(
        stack.app,
        *opening(case),
        case.cmd(StartTrajectory, trajectory_id=TRAJECTORY),
        case.cmd(StartPlacement, placement_id=PLACEMENT),
    )
    before = await stack.last_seq()
    outflow = case.cmd(RecordOutflow, placement_id=PLACEMENT)
    handled = await stack.app.handle(outflow, context())
    stored = await stack.store.read_case(case.case_id, after_seq=before)
    assert [r.name for r in stored] == ["OutflowRecorded", "PlacementEnded", "TrajectoryEnded"]
    assert [r.seq for r in stored] == [before + 1, before + 2, before + 3]
    assert handled.last_seq == before + 3
    assert handled.case_version == 8
    assert handled.event_ids == tuple(r.meta.event_id for r in stored)
    assert {r.meta.causation_id for r in stored} == {outflow.command_id}


async def test_a_retried_command_is_stored_once(stack: Stack) -> None:
    case = Case()
    receive = case.cmd(ReceiveAidRequest)
    first = await stack.app.handle(receive, context())
    again = await stack.app.handle(receive, context())
    elsewhere = await stack.another_app().handle(receive, context())
    assert again == elsewhere
    assert (again.case_version, again.last_seq, again.event_ids) == (
        first.case_version,
        first.last_seq,
        first.event_ids,
    )
    assert again.duplicate
    assert len(await stack.store.read_case(case.case_id)) == 1
    assert await stack.last_seq() == first.last_seq


async def test_the_same_command_sent_twice_at_once_is_stored_once(stack: Stack) -> None:
    case = Case()
    await run(stack.app, *opening(case))
    start = case.cmd(StartTrajectory)
    results = await asyncio.gather(
        stack.app.handle(start, context()), stack.another_app().handle(start, context())
    )
    assert {(r.case_version, r.last_seq, r.event_ids) for r in results} == {
        (4, results[0].last_seq, results[0].event_ids)
    }
    assert [r.name for r in await stack.store.read_case(case.case_id)][-1] == "TrajectoryStarted"
    assert len(await stack.store.read_case(case.case_id)) == 4


async def test_a_write_for_another_offices_case_is_refused_as_if_it_did_not_exist(
    stack: Stack,
) -> None:
    case = Case()
    await run(stack.app, *opening(case))
    before = await stack.last_seq()
    with pytest.raises(DomainError) as refused:
        await stack.app.handle(case.cmd(StartTrajectory), context(OTHER_OFFICE))
    with pytest.raises(DomainError) as unknown:
        await stack.app.handle(Case().cmd(StartTrajectory), context())
    assert (refused.value.code, refused.value.field) == ("case_not_found", "case_id")
    assert unknown.value.code == refused.value.code
    with pytest.raises(DomainError) as read:
        await stack.app.read(case.case_id, context(OTHER_OFFICE))
    assert read.value.code == "case_not_found"
    assert await stack.last_seq() == before
    assert (await stack.app.read(case.case_id, context())).state.office == OFFICE


async def test_a_rule_refusal_stores_nothing(stack: Stack) -> None:
    case = Case()
    await run(stack.app, *opening(case))
    before = await stack.last_seq()
    with pytest.raises(DomainError) as refused:
        await stack.app.handle(case.cmd(StartPlacement), context())
    assert (refused.value.code, refused.value.field) == ("no_open_trajectory", "trajectory_id")
    assert await stack.last_seq() == before


class Interrupted(CaseRepository[CaseState]):
    """Lets another writer append right after each of the next loads (a lost race)."""

    def __init__(self, store: EventStore, intrusions: list[Callable[[], Awaitable[object]]]):
        super().__init__(store, CaseFold())
        self.intrusions = intrusions

    async def load(self, case_id: uuid.UUID) -> LoadedCase[CaseState]:
        loaded = await super().load(case_id)
        if self.intrusions:
            await self.intrusions.pop(0)()
        return loaded


async def test_a_concurrent_write_is_retried_once_on_the_reloaded_case(stack: Stack) -> None:
    case = Case()
    await run(stack.app, *opening(case), case.cmd(StartTrajectory, trajectory_id=TRAJECTORY))
    other = stack.another_app()
    check = lambda: other.handle(case.cmd(VerifyEmployment), context())  # noqa: E731
    app = Application(Interrupted(stack.store, [check]))
    handled = await app.handle(case.cmd(StartPlacement), context())
    names = [r.name for r in await stack.store.read_case(case.case_id)]
    assert names[-2:] == ["EmploymentVerified", "PlacementStarted"]
    assert handled.case_version == 6


async def test_the_retry_decides_again_on_what_the_other_writer_recorded(stack: Stack) -> None:
    case = Case()
    await run(stack.app, *opening(case), case.cmd(StartTrajectory, trajectory_id=TRAJECTORY))
    other = stack.another_app()
    end = lambda: other.handle(case.cmd(EndTrajectory, trajectory_id=TRAJECTORY), context())  # noqa: E731
    app = Application(Interrupted(stack.store, [end]))
    with pytest.raises(DomainError) as refused:
        await app.handle(case.cmd(StartPlacement), context())
    assert refused.value.code == "no_open_trajectory"


async def test_a_second_lost_race_is_reported(stack: Stack) -> None:
    case = Case()
    await run(stack.app, *opening(case))
    other = stack.another_app()
    checks = [lambda: other.handle(case.cmd(VerifyEmployment), context()) for _ in range(2)]
    app = Application(Interrupted(stack.store, list(checks)))
    with pytest.raises(ConcurrencyError):
        await app.handle(case.cmd(StartTrajectory), context())


async def test_erasure_destroys_the_key_and_no_personal_data_follow(stack: Stack) -> None:
    case = Case()
    await run(stack.app, *opening(case), case.cmd(RequestErasure))
    erase = case.cmd(ErasePersonData)
    handled = await stack.app.handle(erase, context())
    retried = await stack.app.handle(erase, context())  # the vault is not asked again
    assert (retried.duplicate, retried.last_seq) == (True, handled.last_seq)
    stored = await stack.store.read_case(case.case_id, reveal=True)
    assert isinstance(stored[-1].event, PersonDataErased)
    assert stored[-1].event.key_destroyed is True
    assert stored[1].erased  # the registration's sealed fields can no longer be opened
    with pytest.raises(DomainError) as refused:
        await stack.app.handle(case.cmd(CompleteIntake), context())
    assert refused.value.code == "person_erased"


async def test_a_fresh_process_starts_from_the_snapshot(stack: Stack) -> None:
    kv = await snapshot_bucket(stack.store.js, Settings(stream=stack.store.stream))
    app = Application(CaseRepository(stack.store, CaseFold(), kv, snapshot_every=2))
    case = Case()
    await run(app, *opening(case), case.cmd(StartTrajectory, trajectory_id=TRAJECTORY))
    fresh = Application(CaseRepository(stack.store, CaseFold(), kv, snapshot_every=2))
    loaded = await fresh.read(case.case_id, context())
    assert loaded.snapshot_version == 4
    assert loaded.state == (await app.read(case.case_id, context())).state


async def test_the_composition_root_builds_the_application(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    settings = Settings(nats_url=nats_server.url, data_dir=tmp_path)
    async with open_runtime(settings) as rt:
        app = await build_application(rt)
        case = Case()
        handled = await app.handle(case.cmd(ReceiveAidRequest), context())
        assert handled.case_version == 1
        assert (await app.read(case.case_id, context())).state.office == OFFICE


async def test_a_command_on_a_case_this_process_knows_asks_nats_for_no_head(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = Case()
    await run(stack.app, *opening(case))
    heads: list[str] = []
    original = last_message

    async def counting(*args: object, **kwargs: object) -> object:
        heads.append("get")
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("services.cases.last_message", counting)
    handled = await stack.app.handle(case.cmd(StartTrajectory), context())
    assert (handled.case_version, heads) == (4, [])
    await stack.app.read(case.case_id, context())
    assert heads == ["get"]  # a read always asks


async def test_a_cache_behind_another_writer_stores_nothing_stale(stack: Stack) -> None:
    case = Case()
    await run(stack.app, *opening(case))
    other = stack.another_app()
    await run(other, case.cmd(VerifyEmployment))  # our cache does not know this one
    handled = await stack.app.handle(case.cmd(StartTrajectory), context())
    stored = await stack.store.read_case(case.case_id)
    assert [r.name for r in stored][-2:] == ["EmploymentVerified", "TrajectoryStarted"]
    assert handled.case_version == 5
    assert [r.case_version for r in stored] == [1, 2, 3, 4, 5]


async def test_a_refusal_on_a_stale_cache_is_checked_on_the_stored_case(stack: Stack) -> None:
    case = Case()
    await run(stack.app, *opening(case))
    other = stack.another_app()
    await run(other, case.cmd(StartTrajectory, trajectory_id=TRAJECTORY))
    # On our cached state there is no trajectory yet; on the stored case there is.
    handled = await stack.app.handle(case.cmd(StartPlacement), context())
    assert handled.case_version == 5
    stored = await stack.store.read_case(case.case_id)
    assert [r.name for r in stored][-2:] == ["TrajectoryStarted", "PlacementStarted"]


async def test_a_command_stored_by_another_process_is_answered_as_a_duplicate(
    stack: Stack,
) -> None:
    case = Case()
    await run(stack.app, *opening(case))
    command = case.cmd(StartTrajectory)
    first = await stack.another_app().handle(command, context())
    again = await stack.app.handle(command, context())  # our cache has not seen it
    assert again.duplicate
    assert (again.case_version, again.last_seq, again.event_ids) == (
        first.case_version,
        first.last_seq,
        first.event_ids,
    )
    assert await stack.last_seq() == first.last_seq


async def test_a_new_case_is_opened_without_asking_nats_for_its_head_or_snapshot(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []

    async def refuse_loading(case_id: uuid.UUID) -> LoadedCase[CaseState]:
        reads.append("load")
        raise AssertionError("a new case needs no load")

    monkeypatch.setattr(stack.app.cases, "load", refuse_loading)
    case = Case()
    handled = await stack.app.handle(case.cmd(ReceiveAidRequest), context())
    assert (handled.case_version, handled.duplicate, reads) == (1, False, [])
    stored = await stack.store.read_case(case.case_id)
    assert [(r.name, r.case_version, r.seq) for r in stored] == [
        ("AidRequestReceived", 1, handled.last_seq)
    ]


async def test_an_aid_request_on_a_case_this_process_does_not_hold_lands_on_top_of_it(
    stack: Stack,
) -> None:
    case = Case()
    await run(stack.app, *opening(case))
    handled = await stack.another_app().handle(case.cmd(ReceiveAidRequest), context())
    stored = await stack.store.read_case(case.case_id)
    assert handled.case_version == 4
    assert [r.case_version for r in stored] == [1, 2, 3, 4]
    assert stored[-1].name == "AidRequestReceived"


async def test_an_aid_request_for_a_case_of_another_office_stays_not_found(
    stack: Stack,
) -> None:
    case = Case()
    await run(stack.app, *opening(case))
    before = await stack.last_seq()
    with pytest.raises(DomainError) as refused:
        await stack.another_app().handle(case.cmd(ReceiveAidRequest), context(OTHER_OFFICE))
    assert refused.value.code == "case_not_found"
    assert await stack.last_seq() == before


async def test_a_retried_aid_request_in_a_new_process_is_a_duplicate_for_its_office_only(
    stack: Stack,
) -> None:
    case = Case()
    command = case.cmd(ReceiveAidRequest)
    first = await stack.app.handle(command, context())
    again = await stack.another_app().handle(command, context())
    assert again.duplicate
    assert (again.case_version, again.last_seq, again.event_ids) == (
        first.case_version,
        first.last_seq,
        first.event_ids,
    )
    with pytest.raises(DomainError) as refused:
        await stack.another_app().handle(command, context(OTHER_OFFICE))
    assert refused.value.code == "case_not_found"
    assert await stack.last_seq() == first.last_seq
