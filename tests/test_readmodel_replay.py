"""The three read models built incrementally (events arriving between catch-ups, small batches)
equal a full replay into fresh tables, on SQLite and PostgreSQL; also for random histories."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.case import EventRetracted, RetractionReason
from events.subsidies import SubsidyScheme
from projections.caseload import caseload
from projections.engine import Runner
from projections.placements import placements
from projections.subsidies import subsidy_history
from services.db import Database
from services.embedded import NatsServer
from services.store import EventStore
from tests.support import histories as h
from tests.support.random_histories import ACTIONS, CASES, Action, HistoryModel, Planned
from tests.support.readmodels import (
    Writer,
    caught_up,
    dump,
    fresh_database,
    fresh_store,
    on_event,
    runner_for,
)
from tests.test_projections_support import BRUGGE, DB_KINDS
from tests.test_readmodel_caseload import caseload_of_three, gpmi_cases
from tests.test_readmodel_placements import six_placements
from tests.test_readmodel_subsidies import clean_history

READ_MODELS = (caseload, placements, subsidy_history)


async def installed(db: Database, store: EventStore, batch_size: int) -> list[Runner]:
    runners = [runner_for(p, db, store, batch_size) for p in READ_MODELS]
    for runner in runners:
        await runner.install()
    return runners


async def replayed(store: EventStore, db: Database) -> dict[str, object]:
    """Every read model built in one go from the whole stream, as a dump of its tables."""
    for projection in READ_MODELS:
        await caught_up(projection, db, store)
    return {p.key: dump(db, p) for p in READ_MODELS}


async def corrections(store: EventStore) -> None:
    """Claims answered, retracted and corrected, and a GPMI signing date corrected."""
    clean = await clean_history(store)
    w = clean.w
    wrong_claim = await clean.claim(SubsidyScheme.RMI_BASE, "2025-06")
    approval = await w.add(
        clean.case, BRUGGE, h.claim_approved(wrong_claim, 1), on=date(2026, 3, 9)
    )
    await w.add(
        clean.case,
        BRUGGE,
        EventRetracted(retracted_event_id=approval, reason=RetractionReason.WRONG_CASE),
        on=date(2026, 3, 10),
    )
    await w.add(
        clean.case,
        BRUGGE,
        h.gpmi_signed(clean.gpmi),
        on=date(2025, 2, 12),
        corrects=clean.signed,
        evidence=[on_event(clean.granted)],
    )


CHAPTERS: tuple[Callable[[EventStore], Awaitable[object]], ...] = (
    caseload_of_three,
    gpmi_cases,
    six_placements,
    corrections,
)


@pytest.mark.parametrize("kind", DB_KINDS)
async def test_an_incremental_run_equals_a_full_replay(
    module_nats_server: NatsServer, tmp_path: Path, kind: str
) -> None:
    async with fresh_store(module_nats_server.url) as store:
        with fresh_database(kind, tmp_path) as db:
            runners = await installed(db, store, batch_size=4)
            for chapter in CHAPTERS:
                await chapter(store)
                for runner in runners:
                    await runner.catch_up()
            incremental = {p.key: dump(db, p) for p in READ_MODELS}
        with fresh_database(kind, tmp_path) as db:
            assert await replayed(store, db) == incremental
    assert len(incremental["caseload.v1"]["caseload_cases"]) == 3 + 5 + 4 + 1
    assert len(incremental["placements.v1"]["placements"]) == 6
    assert len(incremental["subsidy_history.v1"]["subsidy_claims"]) == 10


async def append_planned(store: EventStore, planned: Planned) -> None:
    await Writer(store).add(
        planned.case,
        planned.office,
        planned.event,
        on=planned.on,
        evidence=planned.extras.evidence,
        person=planned.extras.person,
        corrects=planned.extras.corrects,
    )


async def incremental_equals_replay(
    url: str, tmp_path: Path, kind: str, actions: list[Action], cuts: set[int], batch_size: int
) -> None:
    planned = HistoryModel().plan(actions)
    async with fresh_store(url) as store:
        with fresh_database(kind, tmp_path) as db:
            runners = await installed(db, store, batch_size)
            for index, event in enumerate(planned):
                await append_planned(store, event)
                if index in cuts:
                    for runner in runners:
                        await runner.catch_up()
            for runner in runners:
                await runner.catch_up()
            incremental = {p.key: dump(db, p) for p in READ_MODELS}
        with fresh_database(kind, tmp_path) as db:
            assert await replayed(store, db) == incremental


HISTORIES = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.integers(0, CASES - 1), st.integers(0, 2**16)),
    min_size=1,
    max_size=40,
)
CUTS = st.sets(st.integers(0, 40), max_size=6)
PROPERTY = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(actions=HISTORIES, cuts=CUTS, batch_size=st.integers(1, 7))
def test_random_histories_build_the_same_rows_incrementally_and_in_one_replay(
    module_nats_server: NatsServer,
    tmp_path: Path,
    actions: list[Action],
    cuts: set[int],
    batch_size: int,
) -> None:
    asyncio.run(
        incremental_equals_replay(
            module_nats_server.url, tmp_path, "sqlite", actions, cuts, batch_size
        )
    )


@pytest.mark.postgres
@pytest.mark.slow
@settings(PROPERTY, max_examples=8)
@given(actions=HISTORIES, cuts=CUTS, batch_size=st.integers(1, 7))
def test_random_histories_build_the_same_rows_on_postgresql(
    module_nats_server: NatsServer,
    tmp_path: Path,
    actions: list[Action],
    cuts: set[int],
    batch_size: int,
) -> None:
    asyncio.run(
        incremental_equals_replay(
            module_nats_server.url, tmp_path, "postgres", actions, cuts, batch_size
        )
    )


def test_random_histories_use_every_action_and_stay_valid() -> None:
    """The generator's own check: a long history exercises every kind of event it knows."""
    rnd = random.Random(7)
    actions = [
        (rnd.choice(ACTIONS), rnd.randrange(CASES), rnd.randrange(2**16)) for _ in range(400)
    ]
    planned = HistoryModel().plan(actions)
    names = {p.event.event_name for p in planned}
    assert {"EventRetracted", "SubsidyClaimCorrected", "LeefloonResumed", "PlacementEnded"} <= names
    assert any(p.extras.corrects is not None for p in planned)
    assert len({p.event_id for p in planned}) == len(planned) > 300
