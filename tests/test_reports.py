"""Each report on a crafted history, with its figures worked out by hand in the test:
transfers between offices, backdated events, retractions and corrections."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from events.activation import GroupProjectJoined, TrainingStarted
from events.case import EventRetracted, RetractionReason
from events.guidance import CounselorRole, TrajectoryKind
from events.outflow import EmploymentVerified, OutflowReason, OutflowRecorded, VerificationSource
from events.placements import (
    AftercareEnded,
    AftercareOutcome,
    AftercareStarted,
    ContractType,
    PlacementType,
)
from events.rights import LeefloonCategory, RightType
from events.subsidies import LapEngagementRegistered
from projections.reports.model import Value
from projections.reports.monthly import refund_rate
from projections.rules import default_rules
from services.embedded import NatsServer
from services.store import EventStore
from tests.support import histories as h
from tests.support.readmodels import Writer, fresh_store
from tests.support.reports import report
from tests.test_projections_support import BRUGGE, GENT


@pytest.fixture
async def store(module_nats_server: NatsServer) -> AsyncIterator[EventStore]:
    async with fresh_store(module_nats_server.url) as event_store:
        yield event_store


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC)


async def grant(
    w: Writer,
    case: UUID,
    office: str,
    start: date,
    *,
    decided: date | None = None,
    until: date | None = None,
    required: bool = True,
    category: LeefloonCategory = LeefloonCategory.ALLEENSTAAND,
    right_type: RightType = RightType.LEEFLOON,
    recorded: datetime | None = None,
) -> tuple[UUID, UUID]:
    """A grant from ``start``; returns the decision id and the event id."""
    decision = uuid4()
    event = await w.add(
        case,
        office,
        h.granted(
            decision,
            decided_on=decided or start,
            effective_from=start,
            until=until,
            gpmi_required=required,
            category=category,
            right_type=right_type,
        ),
        on=decided or start,
        at=recorded,
    )
    return decision, event


def outflow(reason: OutflowReason, on: date) -> OutflowRecorded:
    return OutflowRecorded(reason=reason, outflow_on=on)


def employed(yes: bool) -> EmploymentVerified:
    return EmploymentVerified(source=VerificationSource.DIMONA, employed=yes)


def counts(table_rows: list[dict[str, Value]], *key: str) -> dict[tuple[Value, ...], Value]:
    return {tuple(r[k] for k in key): r["people"] for r in table_rows}


# --- caseload ---------------------------------------------------------------------------


async def test_caseload_on_a_date_counts_people_with_a_right_in_force_by_office(
    store: EventStore,
) -> None:
    w = Writer(store)
    one, two, three, four, five, six = (uuid4() for _ in range(6))
    # 1 Brugge: revised to gezinslast on 1 March, social worker, werk trajectory, no GPMI yet.
    g1, _ = await grant(w, one, BRUGGE, date(2025, 1, 1), decided=date(2025, 1, 10))
    await w.add(
        one,
        BRUGGE,
        h.revised(g1, LeefloonCategory.GEZINSLAST, date(2025, 3, 1)),
        on=date(2025, 2, 20),
    )
    await w.add(
        one,
        BRUGGE,
        h.assigned(CounselorRole.SOCIAL_WORKER, "u-1", date(2025, 1, 5)),
        on=date(2025, 1, 5),
    )
    await w.add(one, BRUGGE, h.trajectory(uuid4(), TrajectoryKind.WERK), on=date(2025, 2, 1))
    # 2 moves from Brugge to Gent on 1 March; exempt from the GPMI; TWE placement; suspended.
    g2, _ = await grant(
        w, two, BRUGGE, date(2024, 12, 1), required=False, category=LeefloonCategory.SAMENWONEND
    )
    await w.add(
        two,
        BRUGGE,
        h.placement(uuid4(), PlacementType.TWE_ART60, starts_on=date(2025, 2, 1), planned_end=None),
        on=date(2025, 1, 20),
    )
    await w.add(two, BRUGGE, h.transferred(GENT, date(2025, 3, 1)), on=date(2025, 2, 25))
    await w.add(two, GENT, h.suspended(g2, date(2025, 3, 10)), on=date(2025, 3, 10))
    # 3 ended on 28 February: not in the caseload of 15 March.
    g3, _ = await grant(w, three, BRUGGE, date(2025, 1, 1))
    await w.add(three, BRUGGE, h.right_ended(g3, date(2025, 2, 28)), on=date(2025, 2, 28))
    # 4 Gent, equivalent leefloon, GPMI signed 1 February, one evaluation in person.
    await grant(w, four, GENT, date(2025, 1, 1), right_type=RightType.EQUIVALENT_LEEFLOON)
    gpmi = uuid4()
    await w.add(four, GENT, h.gpmi_signed(gpmi), on=date(2025, 2, 1))
    await w.add(four, GENT, h.evaluated(gpmi, in_person=True), on=date(2025, 3, 1))
    # 5 Gent: granted from 1 March, but decided on 20 March (after the report date).
    await grant(w, five, GENT, date(2025, 3, 1), decided=date(2025, 3, 20))
    # 6 Brugge: granted, then retracted as recorded in error on 5 March.
    _, granted6 = await grant(w, six, BRUGGE, date(2025, 1, 1))
    await w.add(
        six,
        BRUGGE,
        EventRetracted(retracted_event_id=granted6, reason=RetractionReason.RECORDED_IN_ERROR),
        on=date(2025, 3, 5),
    )

    on = date(2025, 3, 15)
    rows = counts(
        list((await report(store, "caseload", on=on)).as_dicts()), "office", "dimension", "value"
    )
    assert rows == {
        (BRUGGE, "total", "all"): 1,
        (BRUGGE, "right_type", "leefloon"): 1,
        (BRUGGE, "category", "gezinslast"): 1,
        (BRUGGE, "suspended", "no"): 1,
        (BRUGGE, "counselor", "social_worker:u-1"): 1,
        (BRUGGE, "trajectory", "werk"): 1,
        (BRUGGE, "placement", "none"): 1,
        (BRUGGE, "gpmi", "to_sign"): 1,  # decided 10 January: sign by 10 April
        (GENT, "total", "all"): 2,
        (GENT, "right_type", "leefloon"): 1,
        (GENT, "right_type", "equivalent_leefloon"): 1,
        (GENT, "category", "samenwonend"): 1,
        (GENT, "category", "alleenstaand"): 1,
        (GENT, "suspended", "yes"): 1,
        (GENT, "suspended", "no"): 1,
        (GENT, "counselor", "none"): 2,
        (GENT, "trajectory", "none"): 2,
        (GENT, "placement", "twe_art60"): 1,
        (GENT, "placement", "none"): 1,
        (GENT, "gpmi", "exempt"): 1,
        (GENT, "gpmi", "signed"): 1,
        (GENT, "evaluation", "due"): 1,  # 1 of 3 evaluations in the first GPMI year
    }
    # As known on 5 March the retraction (recorded 6 March) was not known: 6 still counts.
    before = counts(
        list((await report(store, "caseload", on=on, known_on=date(2025, 3, 5))).as_dicts()),
        "office",
        "dimension",
        "value",
    )
    assert before[(BRUGGE, "total", "all")] == 2
    # On 31 March the decision of 20 March counts: 5 is in Gent's caseload.
    later = counts(
        list((await report(store, "caseload", on=date(2025, 3, 31))).as_dicts()),
        "office",
        "dimension",
        "value",
    )
    assert later[(GENT, "total", "all")] == 3
    only_gent = await report(store, "caseload", on=on, offices=[GENT])
    assert {r["office"] for r in only_gent.as_dicts()} == {GENT}


# --- monthly count and refund tier -----------------------------------------------------


async def test_monthly_count_is_active_rights_on_each_months_last_day(store: EventStore) -> None:
    w = Writer(store)
    a, b, c = uuid4(), uuid4(), uuid4()
    await grant(w, a, BRUGGE, date(2025, 1, 1))
    gb, _ = await grant(w, b, BRUGGE, date(2025, 1, 15))
    await w.add(b, BRUGGE, h.right_ended(gb, date(2025, 3, 31)), on=date(2025, 3, 31))
    gc, _ = await grant(w, c, BRUGGE, date(2025, 2, 1))
    await w.add(
        c, BRUGGE, h.suspended(gc, date(2025, 2, 20), date(2025, 3, 10)), on=date(2025, 2, 20)
    )
    table = await report(store, "monthly-count", on=date(2025, 4, 30))
    # Jan: a, b. Feb: a, b (c suspended on the 28th). Mar: a, b (last day 31st), c. Apr: a, c.
    assert [(r["month"], r["people"]) for r in table.as_dicts()] == [
        ("2025-01", 2),
        ("2025-02", 2),
        ("2025-03", 3),
        ("2025-04", 2),
    ]
    assert {r["refund_percent"] for r in table.as_dicts()} == {55}  # no history: base rate
    assert {r["average"] for r in table.as_dicts()} == {None}  # the year is not complete
    assert table.rule_versions == ("refund-2016",)


def _years(**averages: int) -> dict[str, int]:
    """Monthly counts with the same figure every month of each year (y2022=500, ...)."""
    return {f"{y[1:]}-{m:02d}": n for y, n in averages.items() for m in range(1, 13)}


def test_refund_rate_rises_with_growth_and_steps_down_one_point_a_year() -> None:
    rules = default_rules()
    # 2025 looks at 2023 (530 >= 500, +6 % over 2022): 65. The first year with 2 years of
    # history (2024) cannot show growth and keeps the base.
    history = _years(y2022=500, y2023=530, y2024=520)
    assert refund_rate(history, 2024, rules).percent == 55
    assert refund_rate(history, 2025, rules).percent == 65
    assert refund_rate(history, 2026, rules).percent == 65
    # Growth under 5 % (500 -> 520, +4 %): no first rise.
    assert refund_rate(_years(y2022=500, y2023=520), 2025, rules).percent == 55
    # Falling below 500 by 5.8 % (520 -> 490): 64 in 2027, one point down.
    assert refund_rate({**history, **_years(y2025=490)}, 2027, rules).percent == 64
    # Falling below 500 by less than 3 % (510 -> 499): the rate stays 65.
    small = _years(y2022=500, y2023=530, y2024=510, y2025=499)
    assert refund_rate(small, 2027, rules).percent == 65
    assert refund_rate(_years(y2022=1000, y2023=1100), 2025, rules).percent == 70


# --- new-applicant cohort ----------------------------------------------------------------


async def test_new_applicant_cohort_outflow_within_365_days_by_reason(store: EventStore) -> None:
    w = Writer(store)
    p1, p2, p3, p4, p5 = (uuid4() for _ in range(5))
    await grant(w, p1, BRUGGE, date(2025, 2, 1))
    await w.add(p1, BRUGGE, outflow(OutflowReason.WORK, date(2025, 6, 1)), on=date(2025, 5, 30))
    # p2 had a right until 31 January: its February grant is not a new application.
    old, _ = await grant(w, p2, BRUGGE, date(2024, 12, 1))
    await w.add(p2, BRUGGE, h.right_ended(old, date(2025, 1, 31)), on=date(2025, 1, 31))
    await grant(w, p2, BRUGGE, date(2025, 2, 15))
    # p3 leaves after 365 days (1 May 2025 + 364 days = 30 April 2026).
    await grant(w, p3, BRUGGE, date(2025, 5, 1))
    await w.add(p3, BRUGGE, outflow(OutflowReason.WORK, date(2026, 5, 15)), on=date(2026, 5, 15))
    # p4's 365 days run until 31 August 2026, after the report date.
    await grant(w, p4, BRUGGE, date(2025, 9, 1))
    # p5's outflow of 20 April 2025 is recorded only on 10 January 2026 (backdated).
    await grant(w, p5, BRUGGE, date(2025, 4, 1))
    await w.add(
        p5,
        BRUGGE,
        outflow(OutflowReason.UNEMPLOYMENT_BENEFIT, date(2025, 4, 20)),
        on=date(2025, 4, 20),
        at=at("2026-01-10"),
    )

    on = date(2026, 6, 30)
    table = await report(store, "cohort-outflow", on=on, year=2025)
    people = {r["reason"]: (r["people"], r["percent"]) for r in table.as_dicts() if r["people"]}
    assert people == {
        "work": (1, "25.0"),
        "unemployment_benefit": (1, "25.0"),
        "none_within_365_days": (1, "25.0"),
        "window_open": (1, "25.0"),
    }
    assert table.total("people") == 4
    known = await report(store, "cohort-outflow", on=on, year=2025, known_on=date(2025, 12, 31))
    before = {r["reason"]: r["people"] for r in known.as_dicts() if r["people"]}
    assert before == {"work": 1, "none_within_365_days": 2, "window_open": 1}


# --- aftercare ---------------------------------------------------------------------------


async def test_aftercare_outcomes_add_up_to_the_cohort(store: EventStore) -> None:
    w = Writer(store)
    a1, a2, a3, a4, a5 = (uuid4() for _ in range(5))

    async def aftercare(case: UUID, office: str, start: date) -> UUID:
        care = uuid4()
        await w.add(case, office, AftercareStarted(aftercare_id=care), on=start)
        return care

    async def ended(
        case: UUID, care: UUID, outcome: AftercareOutcome, on: date, corrects: UUID | None = None
    ) -> UUID:
        return await w.add(
            case, GENT, AftercareEnded(aftercare_id=care, outcome=outcome), on=on, corrects=corrects
        )

    c1 = await aftercare(a1, GENT, date(2025, 2, 1))
    await ended(a1, c1, AftercareOutcome.PERMANENT_JOB, date(2025, 8, 1))
    c2 = await aftercare(a2, GENT, date(2025, 3, 1))
    await ended(a2, c2, AftercareOutcome.TRAINING, date(2025, 9, 1))
    await aftercare(a3, GENT, date(2025, 6, 1))  # ongoing; moves to Brugge on 1 July
    await w.add(a3, GENT, h.transferred(BRUGGE, date(2025, 7, 1)), on=date(2025, 6, 20))
    c4 = await aftercare(a4, GENT, date(2024, 11, 1))  # the 2024 cohort
    await ended(a4, c4, AftercareOutcome.UNEMPLOYED, date(2025, 3, 1))
    c5 = await aftercare(a5, GENT, date(2025, 4, 1))
    wrong = await ended(a5, c5, AftercareOutcome.PERMANENT_JOB, date(2025, 10, 1))
    await ended(a5, c5, AftercareOutcome.TEMPORARY_JOB, date(2025, 10, 1), corrects=wrong)

    table = await report(store, "aftercare-outcomes", on=date(2025, 12, 31), year=2025)
    got = {(r["office"], r["outcome"]): r["people"] for r in table.as_dicts() if r["people"]}
    assert got == {
        (GENT, "permanent_job"): 1,
        (GENT, "training"): 1,
        (GENT, "temporary_job"): 1,  # corrected from permanent_job
        (GENT, "ongoing"): 1,
    }
    assert table.total("people") == 4
    assert sum(Decimal(str(r["percent"])) for r in table.as_dicts()) == 100


# --- sustainable work -------------------------------------------------------------------


async def test_sustainable_work_at_3_6_and_12_months(store: EventStore) -> None:
    w = Writer(store)
    s1, s2, s3 = uuid4(), uuid4(), uuid4()
    g1, _ = await grant(w, s1, BRUGGE, date(2024, 6, 1))
    await w.add(s1, BRUGGE, h.right_ended(g1, date(2025, 1, 31)), on=date(2025, 1, 31))
    await w.add(s1, BRUGGE, outflow(OutflowReason.WORK, date(2025, 2, 1)), on=date(2025, 1, 31))
    await w.add(s1, BRUGGE, employed(True), on=date(2025, 4, 15))
    await w.add(s1, BRUGGE, employed(True), on=date(2025, 7, 20))
    g2, _ = await grant(w, s2, BRUGGE, date(2024, 6, 1))
    await w.add(s2, BRUGGE, h.right_ended(g2, date(2025, 2, 28)), on=date(2025, 2, 28))
    await w.add(s2, BRUGGE, outflow(OutflowReason.WORK, date(2025, 3, 1)), on=date(2025, 2, 28))
    await grant(w, s2, BRUGGE, date(2025, 5, 1))  # back on leefloon
    await w.add(
        s3, BRUGGE, outflow(OutflowReason.OWN_BUSINESS, date(2025, 1, 15)), on=date(2025, 1, 15)
    )

    table = await report(store, "sustainable-work", on=date(2025, 12, 31))
    got = {(r["horizon"], r["status"]): r["people"] for r in table.as_dicts() if r["people"]}
    assert got == {
        ("+3m", "sustained"): 1,  # s1: 1 May, checked employed on 15 April
        ("+3m", "back_on_leefloon"): 1,  # s2: granted again from 1 May, before 1 June
        ("+3m", "unknown"): 1,  # s3: never checked
        ("+6m", "sustained"): 1,  # s1: 1 August, checked employed on 20 July
        ("+6m", "back_on_leefloon"): 1,
        ("+6m", "unknown"): 1,
        ("+12m", "not_yet_due"): 3,  # all horizons fall in 2026
    }
    for horizon in ("+3m", "+6m", "+12m"):
        assert sum(int(r["people"] or 0) for r in table.as_dicts() if r["horizon"] == horizon) == 3


# --- activation rate -----------------------------------------------------------------------


async def test_activation_rate_and_the_share_working(store: EventStore) -> None:
    w = Writer(store)
    x1, x2, x3, x4, x5 = (uuid4() for _ in range(5))
    for case in (x1, x2, x3, x4):
        await grant(w, case, BRUGGE, date(2025, 1, 1))
    await w.add(
        x1,
        BRUGGE,
        TrainingStarted(
            training_id=uuid4(),
            provider="vdab",
            training_code="HEF-01",
            hours_per_week=Decimal(38),
            starts_on=date(2025, 3, 3),
        ),
        on=date(2025, 2, 20),
    )
    await w.add(
        x2,
        BRUGGE,
        h.placement(uuid4(), PlacementType.TWE_ART60, starts_on=date(2025, 5, 1), planned_end=None),
        on=date(2025, 4, 20),
    )
    await w.add(
        x4,
        BRUGGE,
        GroupProjectJoined(project="de-moestuin", hours_per_week=Decimal(8)),
        on=date(2025, 2, 1),
    )
    await w.add(x4, BRUGGE, employed(True), on=date(2025, 10, 1))
    # x5's right ended in 2024: a training in 2025 is outside the denominator.
    g5, _ = await grant(w, x5, BRUGGE, date(2024, 1, 1))
    await w.add(x5, BRUGGE, h.right_ended(g5, date(2024, 12, 31)), on=date(2024, 12, 31))
    await w.add(
        x5,
        BRUGGE,
        TrainingStarted(
            training_id=uuid4(),
            provider="vdab",
            training_code="HEF-01",
            hours_per_week=Decimal(38),
            starts_on=date(2025, 3, 3),
        ),
        on=date(2025, 2, 20),
    )

    table = await report(store, "activation-rate", on=date(2025, 12, 31))
    assert table.as_dicts() == [
        {
            "office": BRUGGE,
            "people_with_right": 4,
            "activated": 3,  # x1 training, x2 placement, x4 group project
            "activated_percent": "75.0",
            "working": 2,  # x2 placement, x4 employment check: 2 / 3
            "working_percent_of_activated": "66.7",
        }
    ]


# --- LAP progress ---------------------------------------------------------------------------


async def test_lap_progress_counts_paid_work_started_while_entitled_against_the_target(
    store: EventStore,
) -> None:
    w = Writer(store)
    ledger, l1, l2, l3, l4, l5 = (uuid4() for _ in range(6))
    await w.add(
        ledger,
        BRUGGE,
        LapEngagementRegistered(
            call_id="lap-2",
            call_from=date(2024, 12, 1),
            call_to=date(2025, 11, 30),
            baseline_people=43,
            extra_people=10,
            budget_cents=6_000_000,
        ),
        on=date(2024, 12, 5),
    )
    await grant(w, l1, BRUGGE, date(2024, 6, 1))
    await w.add(
        l1,
        BRUGGE,
        h.placement(
            uuid4(),
            PlacementType.REGULAR,
            starts_on=date(2025, 1, 10),
            planned_end=None,
            contract=ContractType.OPEN_ENDED,
        ),
        on=date(2025, 1, 5),
    )
    g2, _ = await grant(w, l2, BRUGGE, date(2024, 6, 1))
    await w.add(l2, BRUGGE, h.right_ended(g2, date(2025, 2, 28)), on=date(2025, 2, 28))
    await w.add(l2, BRUGGE, outflow(OutflowReason.WORK, date(2025, 3, 1)), on=date(2025, 2, 28))
    await grant(w, l3, BRUGGE, date(2024, 6, 1))
    await w.add(
        l3,
        BRUGGE,
        h.placement(
            uuid4(),
            PlacementType.STAGE,
            starts_on=date(2025, 2, 1),
            planned_end=None,
            contract=ContractType.INTERNSHIP_AGREEMENT,
        ),
        on=date(2025, 1, 20),
    )
    await grant(w, l4, BRUGGE, date(2024, 6, 1))
    await w.add(
        l4,
        BRUGGE,
        h.placement(uuid4(), PlacementType.REGULAR, starts_on=date(2024, 11, 15), planned_end=None),
        on=date(2024, 11, 10),
    )
    await w.add(
        l5,
        BRUGGE,
        h.placement(uuid4(), PlacementType.ART61, starts_on=date(2025, 3, 1), planned_end=None),
        on=date(2025, 2, 20),
    )

    table = await report(store, "lap-progress", on=date(2025, 6, 30))
    got = {r["measure"]: (r["people"], r["percent_of_target"]) for r in table.as_dicts()}
    assert got == {
        "counted": (2, "3.8"),  # l1 placement, l2 outflow for work: 2 / 53
        "baseline": (43, None),
        "engagement": (10, None),
        "target": (53, None),
    }
    assert table.rule_versions == ("lap-call-2",)
