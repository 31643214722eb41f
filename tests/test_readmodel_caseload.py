"""The caseload read model on a real nats-server, SQLite and PostgreSQL: rows, counts, deadlines."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from events.case import CaseReopened, EventRetracted, ReopenReason, RetractionReason
from events.guidance import CounselorRole, TrajectoryKind
from events.rights import LeefloonCategory, LeefloonRefused, RefusalReason, RightType
from projections.caseload import (
    CaseloadRow,
    Counsellor,
    EvaluationStatus,
    GpmiDeadlines,
    GpmiStatus,
    caseload,
    counts_per_counsellor,
    counts_per_office,
    counts_per_trajectory_kind,
    get_case,
    gpmi_deadlines,
    open_cases,
)
from projections.caseload.deadlines import add_months, gpmi_year
from projections.projection import ProjectionError
from services.db import Database
from services.embedded import NatsServer
from services.store import EventStore
from tests.support import histories as h
from tests.support.readmodels import Writer, caught_up, fresh_store
from tests.test_projections_support import BRUGGE, DB_KINDS, GENT, database_url

SOCIAL, TRAJECT = CounselorRole.SOCIAL_WORKER, CounselorRole.TRAJECTORY_COUNSELLOR


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


def the_case(db: Database, case: UUID, office: str = BRUGGE) -> CaseloadRow:
    row = get_case(db, case, office_id=office)
    assert row is not None
    return row


async def test_a_case_shows_its_right_counsellors_and_current_trajectory(
    store: EventStore, db: Database
) -> None:
    w, case, person, grant = Writer(store), uuid4(), uuid4(), uuid4()
    taal, werk = uuid4(), uuid4()
    await w.add(case, BRUGGE, h.aid_request(), on=date(2025, 1, 6), person=person)
    await w.add(
        case,
        BRUGGE,
        h.granted(grant, decided_on=date(2025, 1, 20), effective_from=date(2025, 1, 6)),
        on=date(2025, 1, 20),
    )
    await w.add(case, BRUGGE, h.assigned(SOCIAL, "u-1", date(2025, 1, 21)), on=date(2025, 1, 21))
    await w.add(case, BRUGGE, h.assigned(TRAJECT, "u-2", date(2025, 1, 21)), on=date(2025, 1, 21))
    await w.add(case, BRUGGE, h.trajectory(taal, TrajectoryKind.TAAL), on=date(2025, 2, 3))
    await w.add(case, BRUGGE, h.trajectory(werk, TrajectoryKind.WERK), on=date(2025, 3, 3))
    await w.add(
        case,
        BRUGGE,
        h.revised(grant, LeefloonCategory.GEZINSLAST, date(2025, 3, 1)),
        on=date(2025, 3, 10),
    )
    await w.add(case, BRUGGE, h.unassigned(TRAJECT, "u-2", date(2025, 3, 31)), on=date(2025, 4, 1))
    await w.add(case, BRUGGE, h.assigned(TRAJECT, "u-3", date(2025, 4, 1)), on=date(2025, 4, 2))
    await w.add(case, BRUGGE, h.trajectory_ended(werk), on=date(2025, 4, 7))
    await caught_up(caseload, db, store)

    row = the_case(db, case)
    assert (row.office_id, row.person_ref, row.opened_on, row.closed) == (
        BRUGGE,
        person,
        date(2025, 1, 6),
        False,
    )
    assert (row.grant_decision_id, row.right_type, row.category, row.right_status) == (
        grant,
        "leefloon",
        "gezinslast",
        "granted",
    )
    # The werk trajectory ended, so the taal trajectory started before it is current again.
    assert (row.trajectory_id, row.trajectory_kind) == (taal, "taal")
    assert row.counsellors == (
        Counsellor(role="social_worker", user_id="u-1", assigned_from=date(2025, 1, 21)),
        Counsellor(role="trajectory_counsellor", user_id="u-3", assigned_from=date(2025, 4, 1)),
    )
    assert (row.gpmi_required_since, row.gpmi_exemption, row.gpmi_id) == (
        date(2025, 1, 20),
        None,
        None,
    )
    assert (row.last_activity_on, row.last_event, row.last_seq) == (
        date(2025, 4, 7),
        "TrajectoryEnded",
        10,
    )


async def caseload_of_three(store: EventStore) -> tuple[UUID, UUID, UUID]:
    """Open in Brugge with a werk trajectory; moved from Brugge to Gent; refused and closed."""
    w = Writer(store)
    open_case, moved, shut = uuid4(), uuid4(), uuid4()
    await w.add(open_case, BRUGGE, h.aid_request(), on=date(2025, 1, 6))
    await w.add(moved, BRUGGE, h.aid_request(), on=date(2025, 1, 10))
    await w.add(shut, BRUGGE, h.aid_request(), on=date(2025, 1, 13))
    for case in (open_case, moved):
        await w.add(
            case, BRUGGE, h.assigned(SOCIAL, "u-1", date(2025, 1, 14)), on=date(2025, 1, 14)
        )
    await w.add(
        open_case, BRUGGE, h.assigned(TRAJECT, "u-2", date(2025, 1, 14)), on=date(2025, 1, 14)
    )
    await w.add(open_case, BRUGGE, h.trajectory(uuid4(), TrajectoryKind.WERK), on=date(2025, 2, 3))
    await w.add(
        moved,
        BRUGGE,
        h.granted(
            uuid4(),
            decided_on=date(2025, 2, 1),
            effective_from=date(2025, 1, 10),
            gpmi_required=False,
            right_type=RightType.EQUIVALENT_LEEFLOON,
        ),
        on=date(2025, 2, 1),
    )
    await w.add(moved, BRUGGE, h.unassigned(SOCIAL, "u-1", date(2025, 2, 28)), on=date(2025, 2, 28))
    await w.add(moved, BRUGGE, h.transferred(GENT, date(2025, 3, 1)), on=date(2025, 3, 1))
    await w.add(moved, GENT, h.assigned(SOCIAL, "u-9", date(2025, 3, 2)), on=date(2025, 3, 2))
    refusal = LeefloonRefused(
        decision_id=uuid4(),
        bcsd_session_on=date(2025, 2, 3),
        right_type=RightType.LEEFLOON,
        reason=RefusalReason.RESOURCES_SUFFICIENT,
    )
    await w.add(shut, BRUGGE, refusal, on=date(2025, 2, 3))
    await w.add(shut, BRUGGE, h.case_closed(), on=date(2025, 2, 20))
    return open_case, moved, shut


async def test_offices_see_their_open_cases_and_counts_per_counsellor_and_trajectory(
    store: EventStore, db: Database
) -> None:
    open_case, moved, shut = await caseload_of_three(store)
    await caught_up(caseload, db, store)

    assert [c.case_id for c in open_cases(db, BRUGGE)] == [open_case]
    assert [c.case_id for c in open_cases(db, GENT)] == [moved]
    assert get_case(db, moved, office_id=BRUGGE) is None
    moved_row = the_case(db, moved, GENT)
    assert (moved_row.right_type, moved_row.gpmi_exemption, moved_row.counsellors) == (
        "equivalent_leefloon",
        "health_or_equity",
        (Counsellor(role="social_worker", user_id="u-9", assigned_from=date(2025, 3, 2)),),
    )
    shut_row = the_case(db, shut)
    assert (shut_row.closed, shut_row.closed_on, shut_row.right_status) == (
        True,
        date(2025, 2, 20),
        "refused",
    )
    assert counts_per_office(db) == {BRUGGE: 1, GENT: 1}
    assert counts_per_counsellor(db, BRUGGE) == {"u-1": 1, "u-2": 1}
    assert counts_per_counsellor(db, GENT) == {"u-9": 1}
    assert counts_per_trajectory_kind(db, BRUGGE) == {"werk": 1}
    assert counts_per_trajectory_kind(db, GENT) == {None: 1}


async def test_reopening_a_closed_case_puts_it_back_in_the_caseload(
    store: EventStore, db: Database
) -> None:
    _, _, shut = await caseload_of_three(store)
    runner = await caught_up(caseload, db, store)
    await Writer(store).add(
        shut, BRUGGE, CaseReopened(reason=ReopenReason.NEW_AID_REQUEST), on=date(2025, 5, 5)
    )
    await runner.catch_up()
    assert shut in [c.case_id for c in open_cases(db, BRUGGE)]
    assert counts_per_office(db) == {BRUGGE: 2, GENT: 1}


def test_months_are_added_with_the_end_of_month_clamped() -> None:
    assert add_months(date(2025, 1, 20), 3) == date(2025, 4, 20)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert gpmi_year(date(2024, 2, 10), date(2025, 2, 9)) == (date(2024, 2, 10), date(2025, 2, 9))
    assert gpmi_year(date(2024, 2, 10), date(2025, 2, 10)) == (date(2025, 2, 10), date(2026, 2, 9))


async def gpmi_cases(store: EventStore) -> dict[str, UUID]:
    """Five cases with GPMI histories worked out by hand in the test below."""
    w = Writer(store)
    cases = {k: uuid4() for k in ("to_sign", "exempt", "kept_up", "behind", "ended")}
    for name, case in cases.items():
        decided = date(2025, 1, 20) if name == "to_sign" else date(2024, 1, 15)
        grant = h.granted(
            uuid4(),
            decided_on=decided,
            effective_from=decided,
            gpmi_required=name != "exempt",
        )
        await w.add(case, BRUGGE, grant, on=decided)
    kept_up, behind, ended = uuid4(), uuid4(), uuid4()
    await w.add(cases["kept_up"], BRUGGE, h.gpmi_signed(kept_up), on=date(2024, 2, 10))
    for day, in_person in (
        (date(2024, 5, 1), True),
        (date(2024, 9, 1), False),
        (date(2024, 12, 1), True),
        (date(2025, 3, 1), True),
    ):
        await w.add(cases["kept_up"], BRUGGE, h.evaluated(kept_up, in_person=in_person), on=day)
    await w.add(cases["behind"], BRUGGE, h.gpmi_signed(behind), on=date(2024, 1, 10))
    for day in (date(2024, 3, 1), date(2024, 6, 1)):
        await w.add(cases["behind"], BRUGGE, h.evaluated(behind, in_person=True), on=day)
    await w.add(cases["ended"], BRUGGE, h.gpmi_signed(ended), on=date(2024, 2, 1))
    await w.add(cases["ended"], BRUGGE, h.gpmi_ended(ended), on=date(2025, 1, 31))
    return cases


async def test_gpmi_terms_and_evaluations_are_due_or_overdue_on_a_given_date(
    store: EventStore, db: Database
) -> None:
    cases = await gpmi_cases(store)
    await caught_up(caseload, db, store)

    def on(day: date) -> dict[UUID, GpmiDeadlines]:
        return {d.case_id: d.deadlines for d in gpmi_deadlines(db, BRUGGE, day)}

    april_20, april_21, march_15 = date(2025, 4, 20), date(2025, 4, 21), date(2025, 3, 15)
    # Granted 2025-01-20: the GPMI must be signed by 2025-04-20.
    assert on(april_20)[cases["to_sign"]] == GpmiDeadlines(
        on=april_20, gpmi_status=GpmiStatus.TO_SIGN, sign_by=date(2025, 4, 20)
    )
    assert on(april_21)[cases["to_sign"]].gpmi_status is GpmiStatus.SIGN_OVERDUE
    by_case = on(march_15)
    assert by_case[cases["exempt"]].gpmi_status is GpmiStatus.EXEMPT
    assert by_case[cases["ended"]].gpmi_status is GpmiStatus.ENDED
    # Signed 2024-02-10; year one held 3 evaluations (2 in person); year two has 1 so far.
    assert by_case[cases["kept_up"]] == GpmiDeadlines(
        on=march_15,
        gpmi_status=GpmiStatus.SIGNED,
        evaluation_status=EvaluationStatus.DUE,
        year_starts_on=date(2025, 2, 10),
        year_ends_on=date(2026, 2, 9),
        evaluations=1,
        in_person=1,
    )
    assert on(date(2025, 2, 9))[cases["kept_up"]].evaluation_status is EvaluationStatus.MET
    # Signed 2024-01-10 with only 2 evaluations in year one, none yet in year two.
    assert by_case[cases["behind"]].evaluation_status is EvaluationStatus.OVERDUE
    assert on(date(2024, 12, 31))[cases["behind"]].evaluation_status is EvaluationStatus.DUE


async def test_a_retracted_or_corrected_event_no_longer_counts(
    store: EventStore, db: Database
) -> None:
    cases = await gpmi_cases(store)
    runner = await caught_up(caseload, db, store)
    w, case = Writer(store), cases["kept_up"]
    kept_up = the_case(db, case).gpmi_id
    assert kept_up is not None
    wrong = await w.add(case, BRUGGE, h.evaluated(kept_up, in_person=True), on=date(2025, 3, 5))
    await runner.catch_up()
    assert on_march_15(db, case).evaluations == 2
    await w.add(
        case,
        BRUGGE,
        EventRetracted(retracted_event_id=wrong, reason=RetractionReason.DUPLICATE),
        on=date(2025, 3, 6),
    )
    await runner.catch_up()
    assert on_march_15(db, case).evaluations == 1

    # The evaluation of 2025-03-01 was in fact held by phone: a correction replaces it.
    first = [r for r in await store.read_case(case) if r.name == "GpmiEvaluated"][-2]
    assert first.meta.occurred_on == date(2025, 3, 1)
    await w.add(
        case,
        BRUGGE,
        h.evaluated(kept_up, in_person=False),
        on=date(2025, 3, 1),
        corrects=first.meta.event_id,
    )
    await runner.catch_up()
    assert (on_march_15(db, case).evaluations, on_march_15(db, case).in_person) == (1, 0)
    assert the_case(db, case).last_activity_on == date(2025, 3, 6)


def on_march_15(db: Database, case: UUID) -> GpmiDeadlines:
    return next(
        d.deadlines for d in gpmi_deadlines(db, BRUGGE, date(2025, 3, 15)) if d.case_id == case
    )


async def test_an_event_naming_something_the_case_lacks_stops_the_caseload(
    store: EventStore, db: Database
) -> None:
    w, case = Writer(store), uuid4()
    await w.add(case, BRUGGE, h.aid_request(), on=date(2025, 1, 6))
    await w.add(case, BRUGGE, h.unassigned(SOCIAL, "u-1", date(2025, 1, 7)), on=date(2025, 1, 7))
    with pytest.raises(
        ProjectionError,
        match=r"caseload.v1 stopped at stream sequence 2: CounselorUnassigned: LookupError: "
        r"u-1 is not assigned as social_worker",
    ):
        await caught_up(caseload, db, store)
    assert the_case(db, case).last_seq == 1
