"""The placements read model on a real nats-server, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from events.case import EventRetracted, RetractionReason
from events.placements import ContractType, PlacementEndReason, PlacementType
from projections.placements import (
    EmployerLine,
    employer_overview,
    placements,
    placements_of_case,
    placements_of_office,
)
from projections.projection import ProjectionError
from services.db import Database
from services.embedded import NatsServer
from services.store import EventStore
from tests.support import histories as h
from tests.support.readmodels import Writer, caught_up, fresh_store
from tests.test_projections_support import BRUGGE, DB_KINDS, GENT, database_url

OCMW, SITE_A, FIRM_B, FIRM_C = h.OCMW_KBO, "0456789133", "0403170701", "0881234567"


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


async def six_placements(store: EventStore) -> dict[str, UUID]:
    """Four cases and six placements; case four moves from Brugge to Gent."""
    w = Writer(store)
    c1, c2, c3, c4 = uuid4(), uuid4(), uuid4(), uuid4()
    p = {f"p{i}": uuid4() for i in range(1, 7)}
    twe = PlacementType.TWE_ART60
    await w.add(
        c1,
        BRUGGE,
        h.placement(
            p["p1"],
            twe,
            starts_on=date(2025, 1, 6),
            planned_end=date(2025, 12, 31),
            placed_with=SITE_A,
        ),
        on=date(2025, 1, 6),
    )
    await w.add(
        c2,
        BRUGGE,
        h.placement(
            p["p2"],
            PlacementType.ART61,
            starts_on=date(2025, 2, 3),
            planned_end=date(2025, 8, 2),
            employer=FIRM_B,
            hours="30.4",
            contract=ContractType.FIXED_TERM,
        ),
        on=date(2025, 2, 3),
    )
    await w.add(
        c4,
        BRUGGE,
        h.placement(
            p["p6"],
            PlacementType.IBO,
            starts_on=date(2025, 2, 1),
            planned_end=None,
            employer=FIRM_C,
            contract=ContractType.IBO_AGREEMENT,
        ),
        on=date(2025, 2, 1),
    )
    await w.add(
        c3,
        BRUGGE,
        h.placement(
            p["p4"],
            PlacementType.STAGE,
            starts_on=date(2025, 3, 3),
            planned_end=date(2025, 3, 28),
            employer=SITE_A,
            contract=ContractType.INTERNSHIP_AGREEMENT,
        ),
        on=date(2025, 3, 3),
    )
    await w.add(c4, BRUGGE, h.transferred(GENT, date(2025, 3, 10)), on=date(2025, 3, 10))
    await w.add(
        c3, BRUGGE, h.placement_ended(p["p4"], PlacementEndReason.COMPLETED), on=date(2025, 3, 28)
    )
    await w.add(
        c3,
        BRUGGE,
        h.placement(
            p["p5"],
            twe,
            starts_on=date(2025, 4, 1),
            planned_end=date(2026, 3, 31),
            placed_with=SITE_A,
        ),
        on=date(2025, 4, 1),
    )
    await w.add(
        c2,
        BRUGGE,
        h.placement_ended(p["p2"], PlacementEndReason.HIRED, hired_by=FIRM_B),
        on=date(2025, 5, 30),
    )
    await w.add(
        c2,
        BRUGGE,
        h.placement(
            p["p3"],
            PlacementType.REGULAR,
            starts_on=date(2025, 6, 2),
            planned_end=None,
            employer=FIRM_B,
            hours="38",
            contract=ContractType.OPEN_ENDED,
        ),
        on=date(2025, 6, 2),
    )
    p["extension"] = await w.add(
        c1, BRUGGE, h.placement_extended(p["p1"], date(2026, 6, 30)), on=date(2025, 11, 15)
    )
    p.update(c1=c1, c2=c2, c3=c3, c4=c4)
    return p


async def test_placements_keep_type_employer_dates_hours_and_end(
    store: EventStore, db: Database
) -> None:
    p = await six_placements(store)
    await caught_up(placements, db, store)

    [first] = placements_of_case(db, p["c1"], office_id=BRUGGE)
    assert (
        first.placement_type,
        first.employer_kbo,
        first.placed_with_kbo,
        first.workplace_kbo,
    ) == (
        "twe_art60",
        OCMW,
        SITE_A,
        SITE_A,
    )
    assert (first.starts_on, first.first_planned_end, first.planned_end, first.extensions) == (
        date(2025, 1, 6),
        date(2025, 12, 31),
        date(2026, 6, 30),
        1,
    )
    assert (first.ended_on, first.end_reason, first.hours_per_week) == (None, None, Decimal(19))

    hired, regular = placements_of_case(db, p["c2"], office_id=BRUGGE)
    assert (hired.placement_id, hired.hours_per_week, hired.contract) == (
        p["p2"],
        Decimal("30.4"),
        "fixed_term",
    )
    assert (hired.ended_on, hired.end_reason, hired.hired_by_kbo, hired.planned_end) == (
        date(2025, 5, 30),
        "hired",
        FIRM_B,
        date(2025, 8, 2),
    )
    assert (regular.placement_id, regular.planned_end, regular.ended_on) == (p["p3"], None, None)

    # The transferred case's placement moved to Gent with it.
    assert placements_of_case(db, p["c4"], office_id=BRUGGE) == []
    assert [x.placement_id for x in placements_of_case(db, p["c4"], office_id=GENT)] == [p["p6"]]
    assert [x.placement_id for x in placements_of_office(db, BRUGGE)] == [
        p["p1"],
        p["p2"],
        p["p4"],
        p["p5"],
        p["p3"],
    ]
    current = placements_of_office(db, BRUGGE, current_on=date(2025, 3, 28))
    assert [x.placement_id for x in current] == [p["p1"], p["p2"], p["p4"]]


async def test_the_employer_overview_counts_current_and_all_placements_per_type(
    store: EventStore, db: Database
) -> None:
    await six_placements(store)
    await caught_up(placements, db, store)

    assert employer_overview(db, BRUGGE, date(2025, 6, 15)) == [
        EmployerLine(workplace_kbo=FIRM_B, placement_type="art61", current=0, total=1),
        EmployerLine(workplace_kbo=FIRM_B, placement_type="regular", current=1, total=1),
        EmployerLine(workplace_kbo=SITE_A, placement_type="stage", current=0, total=1),
        EmployerLine(workplace_kbo=SITE_A, placement_type="twe_art60", current=2, total=2),
    ]
    assert employer_overview(db, GENT, date(2025, 6, 15)) == [
        EmployerLine(workplace_kbo=FIRM_C, placement_type="ibo", current=1, total=1)
    ]
    assert employer_overview(db, BRUGGE, date(2024, 12, 31))[-1].current == 0


async def test_a_retracted_extension_restores_the_planned_end(
    store: EventStore, db: Database
) -> None:
    p = await six_placements(store)
    runner = await caught_up(placements, db, store)
    retraction = EventRetracted(
        retracted_event_id=p["extension"], reason=RetractionReason.RECORDED_IN_ERROR
    )
    await Writer(store).add(p["c1"], BRUGGE, retraction, on=date(2025, 11, 16))
    await runner.catch_up()
    [first] = placements_of_case(db, p["c1"], office_id=BRUGGE)
    assert (first.planned_end, first.extensions) == (date(2025, 12, 31), 0)


@pytest.mark.parametrize("twice", [False, True])
async def test_ending_a_placement_the_case_does_not_run_stops_the_projection(
    store: EventStore, db: Database, twice: bool
) -> None:
    w, case, placement = Writer(store), uuid4(), uuid4()
    if twice:
        started = h.placement(
            placement, PlacementType.STAGE, starts_on=date(2025, 3, 3), planned_end=None
        )
        await w.add(case, BRUGGE, started, on=date(2025, 3, 3))
        await w.add(
            case,
            BRUGGE,
            h.placement_ended(placement, PlacementEndReason.COMPLETED),
            on=date(2025, 3, 4),
        )
    await w.add(
        case,
        BRUGGE,
        h.placement_ended(placement, PlacementEndReason.EARLY_STOP),
        on=date(2025, 3, 5),
    )
    seq = 3 if twice else 1
    with pytest.raises(
        ProjectionError,
        match=rf"placements.v1 stopped at stream sequence {seq}: PlacementEnded: LookupError: "
        rf"PlacementEnded names placement {placement}, not a running placement of case {case}",
    ):
        await caught_up(placements, db, store)
