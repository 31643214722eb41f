"""The case journal behind the read models: retractions and corrections rebuild one case."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from events.case import EventRetracted, RetractionReason
from events.codec import RecordedEvent
from events.placements import PlacementType
from events.registry import registry
from projections.caseload import caseload, gpmi_deadlines
from projections.journal import CaseProjection
from projections.placements import placements, placements_of_case
from projections.projection import ProjectionError, Table, Tx
from services.db import Database
from services.embedded import NatsServer
from services.store import EventStore
from tests.support import histories as h
from tests.support.readmodels import Writer, caught_up, dump, fresh_store
from tests.test_projections_support import BRUGGE, DB_KINDS, database_url


@pytest.fixture(params=DB_KINDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    for url in database_url(request.param, str(tmp_path)):
        database = Database.connect(url)
        yield database
        database.close()


@pytest.fixture
async def store(module_nats_server: NatsServer) -> AsyncIterator[EventStore]:
    async with fresh_store(module_nats_server.url) as event_store:
        yield event_store


def retraction(event_id: UUID) -> EventRetracted:
    return EventRetracted(retracted_event_id=event_id, reason=RetractionReason.RECORDED_IN_ERROR)


async def signed_gpmi(w: Writer, case: UUID) -> UUID:
    gpmi = uuid4()
    await w.add(case, BRUGGE, h.gpmi_signed(gpmi), on=date(2025, 2, 10))
    return gpmi


def evaluations(db: Database) -> int:
    [case] = gpmi_deadlines(db, BRUGGE, date(2025, 6, 1))
    return case.deadlines.evaluations


async def test_retracting_a_retraction_brings_the_event_back(
    store: EventStore, db: Database
) -> None:
    w, case = Writer(store), uuid4()
    gpmi = await signed_gpmi(w, case)
    evaluation = await w.add(case, BRUGGE, h.evaluated(gpmi, in_person=True), on=date(2025, 3, 3))
    first = await w.add(case, BRUGGE, retraction(evaluation), on=date(2025, 3, 4))
    runner = await caught_up(caseload, db, store)
    assert evaluations(db) == 0
    await w.add(case, BRUGGE, retraction(first), on=date(2025, 3, 5))
    await runner.catch_up()
    assert evaluations(db) == 1


async def test_retracting_an_event_twice_is_harmless_but_correcting_it_twice_stops(
    store: EventStore, db: Database
) -> None:
    w, case = Writer(store), uuid4()
    gpmi = await signed_gpmi(w, case)
    evaluation = await w.add(case, BRUGGE, h.evaluated(gpmi, in_person=True), on=date(2025, 3, 3))
    kept = await w.add(case, BRUGGE, h.evaluated(gpmi, in_person=True), on=date(2025, 3, 4))
    for day in (5, 6):
        await w.add(case, BRUGGE, retraction(evaluation), on=date(2025, 3, day))
    runner = await caught_up(caseload, db, store)
    assert evaluations(db) == 1
    for day in (7, 8):
        fix = h.evaluated(gpmi, in_person=False)
        await w.add(case, BRUGGE, fix, on=date(2025, 3, day), corrects=kept)
    with pytest.raises(
        ProjectionError, match=rf"stream sequence 7: .*ValueError: event {kept} is corrected twice"
    ):
        await runner.catch_up()
    assert evaluations(db) == 1


async def test_a_retraction_of_an_event_the_read_model_does_not_use_changes_nothing(
    store: EventStore, db: Database
) -> None:
    w, case, placement = Writer(store), uuid4(), uuid4()
    request = await w.add(case, BRUGGE, h.aid_request(), on=date(2025, 1, 6))
    started = h.placement(
        placement, PlacementType.IBO, starts_on=date(2025, 2, 3), planned_end=None
    )
    await w.add(case, BRUGGE, started, on=date(2025, 2, 3))
    runner = await caught_up(placements, db, store)
    before = dump(db, placements)["placements"]
    await w.add(case, BRUGGE, retraction(request), on=date(2025, 2, 4))
    await runner.catch_up()
    assert dump(db, placements)["placements"] == before
    assert [p.placement_id for p in placements_of_case(db, case, office_id=BRUGGE)] == [placement]


async def test_a_correction_of_an_event_never_applied_stops_the_read_model(
    store: EventStore, db: Database
) -> None:
    w, case = Writer(store), uuid4()
    gpmi = await signed_gpmi(w, case)
    await w.add(
        case, BRUGGE, h.evaluated(gpmi, in_person=True), on=date(2025, 3, 3), corrects=uuid4()
    )
    with pytest.raises(ProjectionError, match=r"caseload.v1 stopped at stream sequence 2: "):
        await caught_up(caseload, db, store)


async def test_a_correction_must_have_the_type_of_the_event_it_corrects(
    store: EventStore, db: Database
) -> None:
    w, case = Writer(store), uuid4()
    gpmi = await signed_gpmi(w, case)
    evaluation = await w.add(case, BRUGGE, h.evaluated(gpmi, in_person=True), on=date(2025, 3, 3))
    await w.add(case, BRUGGE, h.gpmi_ended(gpmi), on=date(2025, 3, 4), corrects=evaluation)
    with pytest.raises(
        ProjectionError,
        match=rf"stream sequence 3: GpmiEnded: ValueError: a GpmiEnded cannot correct a "
        rf"GpmiEvaluated \({evaluation}\)",
    ):
        await caught_up(caseload, db, store)


def test_a_journalled_projection_must_handle_retractions() -> None:
    ddl = "CREATE TABLE IF NOT EXISTS test_notes (case_id TEXT)"
    projection = CaseProjection("test_notes", 1, (Table("test_notes", (ddl,)),))

    @projection.on("GpmiSigned")
    def note(tx: Tx, rec: RecordedEvent) -> None:
        tx.execute("INSERT INTO test_notes VALUES (?)", (str(rec.meta.case_id),))

    assert [t.name for t in projection.tables] == ["test_notes", "test_notes_journal"]
    with pytest.raises(ValueError, match=r"test_notes\.v1 keeps a journal and must handle"):
        projection.check_covers(registry().names())
