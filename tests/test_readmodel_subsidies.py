"""The subsidy history read model on a real nats-server, SQLite and PostgreSQL: each claim's
status history with actor, time, rule version and evidence, and the audit flags."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from events.base import Role
from events.envelope import Actor, EvidenceRef
from events.subsidies import ClaimField, SubsidyScheme
from projections.projection import ProjectionError
from projections.subsidies import (
    AuditFlag,
    ClaimStep,
    Flag,
    audit_flags,
    claim_history,
    claims_of_case,
    subsidy_history,
)
from services.db import Database
from services.embedded import NatsServer
from services.store import EventStore
from tests.support import histories as h
from tests.support.readmodels import Writer, caught_up, fresh_store, on_event, recorded
from tests.test_projections_support import BRUGGE, DB_KINDS, GENT, database_url

RMI, GPMI, ART60 = SubsidyScheme.RMI_BASE, SubsidyScheme.GPMI, SubsidyScheme.ART60
PAYER_DESK = Actor(user_id="u-fin-2", role=Role.FINANCE)
FORM_B = EvidenceRef(kind="document", ref="doc-form-b-2025-02")


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


async def test_a_claim_keeps_every_step_with_actor_time_rule_version_and_evidence(
    store: EventStore, db: Database
) -> None:
    w, case, person, grant, gpmi = Writer(store), uuid4(), uuid4(), uuid4(), uuid4()
    c1, c2, c3 = uuid4(), uuid4(), uuid4()
    granted = await w.add(
        case,
        BRUGGE,
        h.granted(grant, decided_on=date(2025, 1, 20), effective_from=date(2025, 1, 6)),
        on=date(2025, 1, 20),
    )
    signed = await w.add(case, BRUGGE, h.gpmi_signed(gpmi), on=date(2025, 2, 10))
    submitted = await w.add(
        case,
        BRUGGE,
        h.claim(c1, RMI, "2025-02", 72281, decision=grant),
        on=date(2025, 3, 5),
        evidence=[on_event(granted)],
        person=person,
        rule_version="rmi-2025.1",
    )
    await w.add(
        case,
        BRUGGE,
        h.claim(c2, GPMI, "2025-02", 13142, gpmi=gpmi),
        on=date(2025, 3, 5),
        evidence=[on_event(granted), on_event(signed), FORM_B],
        person=person,
        rule_version="gpmi-2025.1",
    )
    approval = await w.add(
        case, BRUGGE, h.claim_approved(c1, 72281), on=date(2025, 4, 10), actor=PAYER_DESK
    )
    correction = await w.add(
        case,
        BRUGGE,
        h.claim_corrected(c3, c2, GPMI, "2025-02", 13000, gpmi=gpmi),
        on=date(2025, 4, 15),
        evidence=[on_event(signed)],
        person=person,
        rule_version="gpmi-2025.2",
    )
    rejection = await w.add(
        case, BRUGGE, h.claim_rejected(c3, "R17"), on=date(2025, 5, 2), actor=PAYER_DESK
    )
    await caught_up(subsidy_history, db, store)

    first = claim_history(db, c1, office_id=BRUGGE)
    assert first is not None
    assert (first.claim.status, first.claim.amount_cents, first.claim.approved_cents) == (
        "approved",
        72281,
        72281,
    )
    assert (first.claim.person_ref, first.claim.decision_id, first.claim.rule_version) == (
        person,
        grant,
        "rmi-2025.1",
    )
    assert first.evidence_event_ids == (granted,)
    assert first.steps == (
        ClaimStep(
            event_id=submitted,
            step="submitted",
            amount_cents=72281,
            reason_code=None,
            other_claim_id=None,
            rule_version="rmi-2025.1",
            actor_user_id="u-fin-1",
            actor_role="finance",
            occurred_on=date(2025, 3, 5),
            recorded_at=datetime(2025, 3, 6, 9, 0, tzinfo=UTC),
        ),
        ClaimStep(
            event_id=approval,
            step="approved",
            amount_cents=72281,
            reason_code=None,
            other_claim_id=None,
            rule_version=None,
            actor_user_id="u-fin-2",
            actor_role="finance",
            occurred_on=date(2025, 4, 10),
            recorded_at=recorded(date(2025, 4, 10)),
        ),
    )

    replaced = claim_history(db, c2, office_id=BRUGGE)
    assert replaced is not None
    assert (replaced.claim.status, replaced.claim.superseded_by) == ("superseded", c3)
    assert set(replaced.evidence_event_ids) == {granted, signed}
    assert replaced.evidence_documents == ("doc-form-b-2025-02",)
    assert [(s.step, s.amount_cents, s.other_claim_id) for s in replaced.steps] == [
        ("submitted", 13142, None),
        ("superseded", None, c3),
    ]
    assert replaced.steps[1].event_id == correction

    latest = claim_history(db, c3, office_id=BRUGGE)
    assert latest is not None
    assert (latest.claim.status, latest.claim.supersedes, latest.claim.rejection_code) == (
        "rejected",
        c2,
        "R17",
    )
    assert (latest.claim.amount_cents, latest.claim.rule_version) == (13000, "gpmi-2025.2")
    assert latest.evidence_event_ids == (signed,)
    assert [(s.step, s.event_id, s.actor_user_id) for s in latest.steps] == [
        ("corrected", correction, "u-fin-1"),
        ("rejected", rejection, "u-fin-2"),
    ]
    assert [c.claim_id for c in claims_of_case(db, case, office_id=BRUGGE)] == [c1, c2, c3]
    assert claim_history(db, c1, office_id=GENT) is None


@dataclass
class Clean:
    """A case with a right, a GPMI and well-founded claims; no flag applies."""

    w: Writer
    case: UUID
    person: UUID
    grant: UUID
    gpmi: UUID
    granted: UUID
    signed: UUID

    async def claim(
        self,
        scheme: SubsidyScheme,
        period: str,
        *,
        case: UUID | None = None,
        person: UUID | None = None,
        evidence: list[EvidenceRef] | None = None,
        gpmi: UUID | None = None,
    ) -> UUID:
        claim_id = uuid4()
        event = h.claim(claim_id, scheme, period, 1000, gpmi=gpmi)
        grounds = evidence if evidence is not None else [on_event(self.granted)]
        await self.w.add(
            case or self.case, BRUGGE, event, on=date(2026, 3, 2), evidence=grounds, person=person
        )
        return claim_id


async def clean_history(store: EventStore) -> Clean:
    w, case, person, grant, gpmi = Writer(store), uuid4(), uuid4(), uuid4(), uuid4()
    granted = await w.add(
        case,
        BRUGGE,
        h.granted(grant, decided_on=date(2025, 1, 20), effective_from=date(2025, 1, 6)),
        on=date(2025, 1, 20),
    )
    signed = await w.add(case, BRUGGE, h.gpmi_signed(gpmi), on=date(2025, 2, 10))
    clean = Clean(w, case, person, grant, gpmi, granted, signed)
    await clean.claim(RMI, "2025-01", person=person)
    await clean.claim(GPMI, "2025-02", person=person, gpmi=gpmi)
    await clean.claim(GPMI, "2026-01", person=person)  # the 12th month from February 2025
    # Suspended from 1 to 20 April: the rest of April is still paid.
    await w.add(
        case, BRUGGE, h.suspended(grant, date(2025, 4, 1), date(2025, 4, 20)), on=date(2025, 3, 28)
    )
    await clean.claim(RMI, "2025-04", person=person)
    # A correction replaces its original: the two are not a double claim.
    original = await clean.claim(RMI, "2025-03", person=person)
    await w.add(
        case,
        BRUGGE,
        h.claim_corrected(uuid4(), original, RMI, "2025-03", 900),
        on=date(2026, 3, 3),
        evidence=[on_event(granted)],
        person=person,
    )
    # A rejected claim is not paid; claiming the month again is no double claim.
    rejected = await clean.claim(RMI, "2025-05")
    await w.add(case, BRUGGE, h.claim_rejected(rejected), on=date(2026, 3, 3))
    await clean.claim(RMI, "2025-05")
    # Art. 60 is paid for a job, not on a leefloon right.
    await clean.claim(ART60, "2024-12")
    return clean


def flagged(db: Database) -> list[tuple[Flag, UUID, str]]:
    return [(f.flag, f.claim_id, f.period) for f in audit_flags(db, BRUGGE)]


async def test_a_clean_history_raises_no_flag(store: EventStore, db: Database) -> None:
    await clean_history(store)
    await caught_up(subsidy_history, db, store)
    assert audit_flags(db, BRUGGE) == []


async def test_a_claim_resting_on_no_recorded_event_is_flagged(
    store: EventStore, db: Database
) -> None:
    clean = await clean_history(store)
    bare = await clean.claim(RMI, "2025-06", evidence=[FORM_B])
    await caught_up(subsidy_history, db, store)
    assert audit_flags(db, BRUGGE) == [
        AuditFlag(
            flag=Flag.NO_EVIDENCE,
            claim_id=bare,
            case_id=clean.case,
            scheme="rmi_base",
            period="2025-06",
            detail="the claim rests on no recorded event",
        )
    ]


async def test_the_same_person_scheme_and_month_claimed_twice_is_flagged(
    store: EventStore, db: Database
) -> None:
    clean = await clean_history(store)
    w = clean.w
    # The same person's other case (a second file by mistake), with its own right.
    other_case, other_grant = uuid4(), uuid4()
    granted = await w.add(
        other_case,
        BRUGGE,
        h.granted(other_grant, decided_on=date(2025, 1, 20), effective_from=date(2025, 1, 1)),
        on=date(2025, 1, 20),
    )
    evidence = [on_event(granted)]
    twice = await clean.claim(
        RMI, "2025-01", case=other_case, person=clean.person, evidence=evidence
    )
    # Without a person_ref a claim is the same person only within its case.
    await clean.claim(RMI, "2025-04", case=other_case, evidence=evidence)
    again = await clean.claim(RMI, "2025-06")
    again_too = await clean.claim(RMI, "2025-06", person=clean.person)
    await caught_up(subsidy_history, db, store)

    [first] = claims_in(db, clean.case, "2025-01")
    assert sorted(flagged(db), key=str) == sorted(
        [
            (Flag.DUPLICATE, first, "2025-01"),
            (Flag.DUPLICATE, twice, "2025-01"),
            (Flag.DUPLICATE, again, "2025-06"),
            (Flag.DUPLICATE, again_too, "2025-06"),
        ],
        key=str,
    )
    details = {f.claim_id: f.detail for f in audit_flags(db, BRUGGE)}
    assert details[twice] == f"also claimed by {first}"


def claims_in(db: Database, case: UUID, period: str) -> list[UUID]:
    return [c.claim_id for c in claims_of_case(db, case, office_id=BRUGGE) if c.period == period]


async def test_a_claim_for_a_month_without_an_active_right_is_flagged(
    store: EventStore, db: Database
) -> None:
    clean = await clean_history(store)
    w, case, grant = clean.w, clean.case, clean.grant
    before = await clean.claim(RMI, "2024-12")  # the right runs from 6 January 2025
    # Suspended for the whole of June, paid again from 1 July; ended after September.
    await w.add(case, BRUGGE, h.suspended(grant, date(2025, 6, 1)), on=date(2025, 5, 28))
    await w.add(case, BRUGGE, h.resumed(grant, date(2025, 7, 1)), on=date(2025, 6, 30))
    await w.add(case, BRUGGE, h.right_ended(grant, date(2025, 9, 30)), on=date(2025, 9, 15))
    june = await clean.claim(RMI, "2025-06")
    await clean.claim(RMI, "2025-07")
    await clean.claim(GPMI, "2025-09")
    october = await clean.claim(GPMI, "2025-10")
    await caught_up(subsidy_history, db, store)
    # The clean history's GPMI claim for January 2026 now lies after the right ended too.
    [january] = claims_in(db, case, "2026-01")
    assert flagged(db) == [
        (Flag.NO_ACTIVE_RIGHT, before, "2024-12"),
        (Flag.NO_ACTIVE_RIGHT, june, "2025-06"),
        (Flag.NO_ACTIVE_RIGHT, october, "2025-10"),
        (Flag.NO_ACTIVE_RIGHT, january, "2026-01"),
    ]


async def test_a_gpmi_claim_outside_its_window_is_flagged_until_an_extension_covers_it(
    store: EventStore, db: Database
) -> None:
    clean = await clean_history(store)
    thirteenth = await clean.claim(GPMI, "2026-02", gpmi=clean.gpmi)
    early = await clean.claim(GPMI, "2025-01")  # signed in February 2025
    runner = await caught_up(subsidy_history, db, store)
    assert flagged(db) == [
        (Flag.GPMI_OUTSIDE_WINDOW, early, "2025-01"),
        (Flag.GPMI_OUTSIDE_WINDOW, thirteenth, "2026-02"),
    ]
    assert audit_flags(db, BRUGGE)[1].detail == (
        "2026-02 lies outside the GPMI subsidy window 2025-02..2026-01"
    )
    extension = h.gpmi_extended(clean.gpmi, date(2026, 4, 30))
    await clean.w.add(clean.case, BRUGGE, extension, on=date(2026, 1, 20))
    await runner.catch_up()
    assert flagged(db) == [(Flag.GPMI_OUTSIDE_WINDOW, early, "2025-01")]


async def test_an_ended_gpmi_closes_its_window(store: EventStore, db: Database) -> None:
    clean = await clean_history(store)
    await clean.w.add(clean.case, BRUGGE, h.gpmi_ended(clean.gpmi), on=date(2025, 8, 14))
    august = await clean.claim(GPMI, "2025-08")
    september = await clean.claim(GPMI, "2025-09", gpmi=clean.gpmi)
    await caught_up(subsidy_history, db, store)
    found = flagged(db)
    assert (Flag.GPMI_OUTSIDE_WINDOW, september, "2025-09") in found
    assert all(claim != august for _, claim, _ in found)


@pytest.mark.parametrize("problem", ["unknown", "superseded_twice"])
async def test_an_answer_or_correction_on_a_claim_the_case_lacks_stops_the_projection(
    store: EventStore, db: Database, problem: str
) -> None:
    w, case, original = Writer(store), uuid4(), uuid4()
    await w.add(case, BRUGGE, h.claim(original, RMI, "2025-02", 1000), on=date(2025, 3, 5))
    if problem == "unknown":
        await w.add(case, BRUGGE, h.claim_approved(uuid4(), 1000), on=date(2025, 3, 6))
        expected = r"SubsidyClaimApproved: LookupError: SubsidyClaimApproved names claim"
    else:
        for cents in (900, 800):
            fix = h.claim_corrected(uuid4(), original, RMI, "2025-02", cents, (ClaimField.AMOUNT,))
            await w.add(case, BRUGGE, fix, on=date(2025, 3, 6))
        expected = r"SubsidyClaimCorrected: LookupError: .* not a claim line not yet superseded"
    seq = 2 if problem == "unknown" else 3
    with pytest.raises(
        ProjectionError, match=rf"subsidy_history.v1 stopped at stream sequence {seq}: {expected}"
    ):
        await caught_up(subsidy_history, db, store)
    # The events before the one that stopped it are applied.
    lines = [(c.claim_id == original, c.status) for c in claims_of_case(db, case, office_id=BRUGGE)]
    first_fix = [(False, "corrected")] if problem == "superseded_twice" else []
    assert lines == [(True, "superseded" if first_fix else "submitted"), *first_fix]
