"""The subsidy ledger and its eligibility on crafted histories, figures worked out by hand:
exact cents, rule versions, corrections, backdated events and a transfer between offices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from events.placements import PlacementEndReason, PlacementType
from events.rights import LeefloonCategory, LeefloonPaid
from events.subsidies import SubsidyClaimRejected, SubsidyScheme
from projections.reports.model import Value
from services.embedded import NatsServer
from services.store import EventStore
from tests.support import histories as h
from tests.support.readmodels import Writer, fresh_store
from tests.support.reports import report, rows_by
from tests.test_projections_support import BRUGGE, GENT

RMI, GPMI, ART61 = SubsidyScheme.RMI_BASE, SubsidyScheme.GPMI, SubsidyScheme.ART61


@pytest.fixture
async def store(module_nats_server: NatsServer) -> AsyncIterator[EventStore]:
    async with fresh_store(module_nats_server.url) as event_store:
        yield event_store


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


class Story:
    """Two people. A: Brugge, GPMI signed in January but recorded only on 15 March
    (backdated); a GPMI claim corrected on 10 April and approved on 20 April. B: moves from
    Brugge to Gent on 1 March during an art. 61 placement; Gent's March claim is rejected."""

    def __init__(self) -> None:
        self.case_a, self.person_a, self.grant_a, self.gpmi_a = uuid4(), uuid4(), uuid4(), uuid4()
        self.case_b, self.person_b, self.grant_b, self.placement_b = (
            uuid4(),
            uuid4(),
            uuid4(),
            uuid4(),
        )

    async def write(self, w: Writer) -> None:
        a, b = self.case_a, self.case_b
        await w.add(
            a,
            BRUGGE,
            h.granted(self.grant_a, decided_on=date(2025, 1, 20), effective_from=date(2025, 1, 6)),
            on=date(2025, 1, 20),
            person=self.person_a,
        )
        await w.add(
            a,
            BRUGGE,
            LeefloonPaid(grant_decision_id=self.grant_a, month="2025-02", amount_cents=131420),
            on=date(2025, 2, 28),
        )
        await w.add(
            a, BRUGGE, h.gpmi_signed(self.gpmi_a), on=date(2025, 1, 25), at=at("2025-03-15")
        )
        rmi = uuid4()
        await w.add(
            a,
            BRUGGE,
            h.claim(rmi, RMI, "2025-02", 72281, decision=self.grant_a),
            on=date(2025, 3, 20),
            rule_version="rmi-2025.1",
        )
        wrong, right = uuid4(), uuid4()
        await w.add(
            a,
            BRUGGE,
            h.claim(wrong, GPMI, "2025-02", 13000, gpmi=self.gpmi_a),
            on=date(2025, 3, 20),
            rule_version="gpmi-2016-11/leefloon-2025-02",
        )
        await w.add(
            a,
            BRUGGE,
            h.claim_corrected(right, wrong, GPMI, "2025-02", 13142, gpmi=self.gpmi_a),
            on=date(2025, 4, 10),
            at=at("2025-04-10"),
            rule_version="gpmi-2016-11/leefloon-2025-02",
        )
        await w.add(a, BRUGGE, h.claim_approved(right, 13142), on=date(2025, 4, 20))

        await w.add(
            b,
            BRUGGE,
            h.granted(
                self.grant_b,
                decided_on=date(2025, 1, 10),
                effective_from=date(2025, 1, 1),
                gpmi_required=False,
                category=LeefloonCategory.SAMENWONEND,
            ),
            on=date(2025, 1, 10),
            person=self.person_b,
        )
        await w.add(
            b,
            BRUGGE,
            h.placement(
                self.placement_b,
                PlacementType.ART61,
                starts_on=date(2025, 2, 15),
                planned_end=None,
                employer="0456789133",
                hours="19",
            ),
            on=date(2025, 2, 10),
        )
        await w.add(b, BRUGGE, h.transferred(GENT, date(2025, 3, 1)), on=date(2025, 2, 25))
        await w.add(
            b,
            GENT,
            h.placement_ended(self.placement_b, PlacementEndReason.COMPLETED),
            on=date(2025, 3, 31),
        )
        art61 = uuid4()
        await w.add(b, GENT, h.claim(art61, ART61, "2025-03", 12500), on=date(2025, 4, 5))
        await w.add(
            b, GENT, SubsidyClaimRejected(claim_id=art61, reason_code="R17"), on=date(2025, 4, 15)
        )


@pytest.fixture
async def story(store: EventStore) -> Story:
    s = Story()
    await s.write(Writer(store))
    return s


COLUMNS = (
    "eligible_cents",
    "eligible_rule",
    "claimed_cents",
    "approved_cents",
    "rejected_cents",
    "corrected_cents",
    "claim_rule",
)


def line(table_rows: dict[tuple[Value, ...], dict[str, Value]], *key: Value) -> tuple[Value, ...]:
    row = table_rows[key]
    return tuple(row[c] for c in COLUMNS)


async def test_ledger_puts_eligible_claimed_approved_rejected_corrected_side_by_side(
    store: EventStore, story: Story
) -> None:
    table = await report(store, "subsidy-ledger", on=date(2025, 4, 30))
    rows = rows_by(table, "office", "scheme", "person", "month")
    pa, pb = str(story.person_a), str(story.person_b)
    gpmi_2025 = "gpmi-2016-11/leefloon-2025-02"
    # RMI refund: 55 % (no history, base rate) of the 131,420 paid for February = 72,281.
    assert line(rows, BRUGGE, "rmi_base", pa, "2025-02") == (
        72281,
        "refund-2016@55%",
        72281,
        0,
        0,
        0,
        "rmi-2025.1",
    )
    # GPMI: January under the old leefloon (10 % of 128,846 = 12,884.6 -> 12,885), then 13,142.
    assert line(rows, BRUGGE, "gpmi", pa, "2025-01") == (
        12885,
        "gpmi-2016-11/leefloon-2024-05",
        0,
        0,
        0,
        0,
        None,
    )
    assert line(rows, BRUGGE, "gpmi", pa, "2025-02") == (
        13142,
        gpmi_2025,
        13142,
        13142,
        0,
        142,
        "gpmi-2016-11/leefloon-2025-02",
    )
    assert line(rows, BRUGGE, "gpmi", pa, "2025-03")[:3] == (13142, gpmi_2025, 0)
    assert line(rows, BRUGGE, "gpmi", pa, "2025-04")[:3] == (13142, gpmi_2025, 0)
    # Art. 61, 19 of 38 hours: 12,500 a month; February in Brugge, March in Gent (moved 1 March).
    assert line(rows, BRUGGE, "art61", pb, "2025-02") == (12500, "art61-2016", 0, 0, 0, 0, None)
    assert line(rows, GENT, "art61", pb, "2025-03") == (
        12500,
        "art61-2016",
        12500,
        0,
        12500,
        0,
        "-",
    )
    assert len(rows) == 7
    # 72,281 + 12,885 + 3 x 13,142 + 2 x 12,500 = 149,592
    totals = dict(zip(table.columns, table.totals or (), strict=True))
    assert (totals["eligible_cents"], totals["claimed_cents"], totals["approved_cents"]) == (
        149592,
        97923,
        13142,
    )
    assert (totals["rejected_cents"], totals["corrected_cents"]) == (12500, 142)
    assert sum(int(r["eligible_cents"] or 0) for r in table.as_dicts()) == 149592


async def test_known_on_before_the_correction_gives_the_original_figure(
    store: EventStore, story: Story
) -> None:
    before = await report(store, "subsidy-ledger", on=date(2025, 4, 30), known_on=date(2025, 4, 9))
    after = await report(store, "subsidy-ledger", on=date(2025, 4, 30), known_on=date(2025, 4, 10))
    key = (BRUGGE, "gpmi", str(story.person_a), "2025-02")
    assert line(rows_by(before, "office", "scheme", "person", "month"), *key)[2:6] == (
        13000,
        0,
        0,
        0,
    )
    assert line(rows_by(after, "office", "scheme", "person", "month"), *key)[2:6] == (
        13142,
        0,
        0,
        142,
    )  # the approval of 20 April is not known yet
    assert before.known_on == date(2025, 4, 9)


async def test_known_on_ends_at_midnight_in_brussels(store: EventStore) -> None:
    w, case, grant = Writer(store), uuid4(), uuid4()
    await w.add(
        case,
        BRUGGE,
        h.granted(grant, decided_on=date(2025, 4, 1), effective_from=date(2025, 4, 1)),
        on=date(2025, 4, 1),
    )
    claim = uuid4()
    # 22:30 UTC on 9 April is 00:30 on 10 April in Brussels (summer time).
    await w.add(
        case,
        BRUGGE,
        h.claim(claim, RMI, "2025-04", 1000),
        on=date(2025, 4, 9),
        at=at("2025-04-09", 22).replace(minute=30),
    )
    on = date(2025, 4, 30)
    seen_9 = await report(store, "subsidy-ledger", on=on, known_on=date(2025, 4, 9))
    seen_10 = await report(store, "subsidy-ledger", on=on, known_on=date(2025, 4, 10))
    assert seen_9.total("claimed_cents") == 0
    assert seen_10.total("claimed_cents") == 1000


async def test_a_backdated_event_changes_the_view_as_on_a_date_not_the_view_as_known_before(
    store: EventStore, story: Story
) -> None:
    pa = str(story.person_a)
    # As on 28 February, known now: the GPMI signed on 25 January (recorded 15 March) counts.
    now = rows_by(
        await report(store, "subsidy-ledger", on=date(2025, 2, 28)),
        "office",
        "scheme",
        "person",
        "month",
    )
    assert {k[3] for k in now if k[1] == "gpmi"} == {"2025-01", "2025-02"}
    assert line(now, BRUGGE, "gpmi", pa, "2025-02")[2] == 0  # claimed in March: not yet
    # As on 28 February, as known on 1 March: nobody knew of the GPMI.
    then = rows_by(
        await report(store, "subsidy-ledger", on=date(2025, 2, 28), known_on=date(2025, 3, 1)),
        "office",
        "scheme",
        "person",
        "month",
    )
    assert not [k for k in then if k[1] == "gpmi"]
    assert line(then, BRUGGE, "rmi_base", pa, "2025-02")[0] == 72281


async def test_an_office_filter_keeps_only_that_offices_lines(
    store: EventStore, story: Story
) -> None:
    table = await report(store, "subsidy-ledger", on=date(2025, 4, 30), offices=[GENT])
    assert {r["office"] for r in table.as_dicts()} == {GENT}
    assert table.total("eligible_cents") == 12500
