"""A plausible trajectory for one demo case: request, right, money, activation, outflow."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Final
from uuid import UUID

from events.base import Role
from events.envelope import Actor
from projections.rules import RuleBook
from services.commands.aid import CompleteSocialInquiry, ReceiveAidRequest, RegisterPerson
from services.commands.case import CloseCase
from services.commands.guidance import AssignCounselor, CompleteIntake, RecordVdabRegistration
from services.commands.rights import (
    GrantLeefloon,
    RecordDecisionNotification,
    RefuseLeefloon,
)
from services.commands.subsidies import (
    RecordSubsidyClaimApproval,
    RecordSubsidyClaimRejection,
    SubmitSubsidyClaim,
)
from services.demo import people
from services.demo.offices import OfficeProfile
from services.demo.story import DEMO_END, DEMO_START, Staff, Story, days, evidence, month_end

REFUND_TIER: Final = 55  # every demo office averages fewer than 500 beneficiaries
CATEGORIES: Final = (("alleenstaand", 50), ("samenwonend", 25), ("gezinslast", 25))


def weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


@dataclass
class CaseWriter:
    """Writes one case's story; the activation part is in ``services.demo.activation``."""

    profile: OfficeProfile
    number: int
    rng: random.Random
    rules: RuleBook
    staff: Staff
    story: Story = field(init=False)
    start: date = field(init=False)
    session: date = field(init=False)
    category: str = field(init=False)
    newcomer: bool = field(init=False)
    grant_id: UUID = field(init=False)
    gpmi_required: bool = field(init=False)
    outflow_on: date | None = None
    outflow_reason: str | None = None
    suspended: set[date] = field(default_factory=set)
    first_day: date = DEMO_START
    """Aid requests arrive from here, over ``intake_days`` days."""
    intake_days: int = 420
    last_day: date = DEMO_END
    """Monthly follow-ups (GPMI, placements) are planned up to here."""
    refund_tier: int = REFUND_TIER
    key_prefix: str = ""
    """Prefix of the case key, so other generators' cases never share the demo's ids."""

    def __post_init__(self) -> None:
        self.story = Story(self.profile.nis, f"{self.key_prefix}case/{self.number}")
        self.grant_id = self.story.id("decision/grant")

    def actor(self, role: Role) -> Actor:
        if role is Role.SOCIAL_WORKER:
            return self.staff.actor(role, 1 + self.number % self.staff.social_workers)
        if role.value == self.staff.counsellor_role:
            return self.staff.actor(role, 1 + self.number % self.staff.counsellors)
        return self.staff.actor(role)

    # --- the request and the decision -------------------------------------------------

    def open(self) -> bool:
        """Request, registration, inquiry and the BCSD's decision; False if no right."""
        rng, s, sw = self.rng, self.story, self.actor(Role.SOCIAL_WORKER)
        self.start = self.first_day + days(rng.randint(0, self.intake_days))
        self.newcomer = rng.random() < self.profile.newcomer_share
        equivalent = self.newcomer and rng.random() < self.profile.equivalent_share / max(
            self.profile.newcomer_share, 0.01
        )
        self.category = weighted(rng, CATEGORIES)
        requested = "equivalent_leefloon" if equivalent else "leefloon"
        channel = weighted(rng, (("counter", 60), ("ocmw_online", 25), ("referral", 15)))
        s.add("request", ReceiveAidRequest, self.start, sw, channel=channel, requested=requested)
        birth = people.birth_date(rng, self.start)
        family, given = people.name(rng, self.newcomer)
        members = people.household(rng, self.category, self.start)
        p = self.profile
        s.add(
            "person",
            RegisterPerson,
            self.start,
            sw,
            national_number=people.insz(rng, birth),
            family_name=family,
            given_names=given,
            birth_date=birth,
            address=people.address(rng, p.municipality, p.postal_code, p.streets),
            household=members,
        )
        inquiry_on = self.start + days(rng.randint(6, 18))
        s.add(
            "inquiry",
            CompleteSocialInquiry,
            inquiry_on,
            sw,
            home_visit=rng.random() < 0.8,
            proposed_category=self.category,
            household=members,
            resources=[{"kind": "child_benefit", "monthly_amount_cents": 17_400}]
            if self.category == "gezinslast"
            else [],
            notes="Huisbezoek gedaan; geen bestaansmiddelen boven het leefloon.",
        )
        self.session = inquiry_on + days(rng.randint(3, 12))
        right = "equivalent_leefloon" if equivalent else "leefloon"
        if rng.random() < 0.05:
            self._refused(right)
            return False
        self._granted(right)
        return True

    def _refused(self, right: str) -> None:
        s, decision = self.story, self.story.id("decision/refusal")
        bcsd = self.actor(Role.BCSD)
        reason = weighted(self.rng, (("resources_sufficient", 3), ("no_cooperation", 1)))
        s.add(
            "refusal",
            RefuseLeefloon,
            self.session,
            bcsd,
            decision_id=decision,
            bcsd_session_on=self.session,
            right_type=right,
            reason=reason,
        )
        self.notify("refusal", decision, self.session)
        closed = self.session + days(35)
        s.add("close", CloseCase, closed, self.actor(Role.SOCIAL_WORKER), reason="aid_refused")

    def _granted(self, right: str) -> None:
        rng, s = self.rng, self.story
        figure = self.rules.leefloon(self.category, self.start)
        rate = self.rules.at("leefloon", self.start)
        self.gpmi_required = rng.random() < 0.85
        s.add(
            "grant",
            GrantLeefloon,
            self.session,
            self.actor(Role.BCSD),
            decision_id=self.grant_id,
            bcsd_session_on=self.session,
            right_type=right,
            category=self.category,
            monthly_amount_cents=figure.cents,
            rate_valid_from=rate.valid_from,
            effective_from=self.start,
            gpmi_required=self.gpmi_required,
            gpmi_exemption=None if self.gpmi_required else "health_or_equity",
            legal_basis="RMI-wet 26/05/2002 art. 14",
            rule_version=figure.rule_version,
        )
        self.notify("grant", self.grant_id, self.session)
        sw = self.actor(Role.SOCIAL_WORKER)
        s.add(
            "counsellor/sw",
            AssignCounselor,
            self.session,
            sw,
            role="social_worker",
            counselor_user_id=sw.user_id,
            assigned_from=self.session,
        )
        vdab_on = self.session + days(rng.randint(5, 20))
        if self.gpmi_required:
            s.add("vdab", RecordVdabRegistration, vdab_on, sw, registered_on=vdab_on)
        else:
            s.add("vdab", RecordVdabRegistration, vdab_on, sw, exemption="health_or_equity")

    def notify(self, key: str, decision: UUID, decided: date) -> None:
        channel = weighted(self.rng, (("registered_letter", 3), ("handed_over_against_receipt", 1)))
        on = decided + days(self.rng.randint(1, 6))
        self.story.add(
            f"notify/{key}",
            RecordDecisionNotification,
            on,
            self.actor(Role.SOCIAL_WORKER),
            decision_id=decision,
            channel=channel,
        )

    def claim(self, key: str, claim_id: UUID, on: date, **fields: object) -> None:
        self.story.add(
            f"claim/{key}",
            SubmitSubsidyClaim,
            on,
            self.actor(Role.FINANCE),
            claim_id=claim_id,
            **fields,
        )

    def answer(
        self, key: str, claim_id: UUID, claimed: date, cents: int, *, reject: str = ""
    ) -> None:
        on = claimed + days(self.rng.randint(30, 75))
        if reject:
            self.story.add(
                f"answer/{key}",
                RecordSubsidyClaimRejection,
                on,
                self.actor(Role.FINANCE),
                claim_id=claim_id,
                reason_code=reject,
            )
        else:
            self.story.add(
                f"answer/{key}",
                RecordSubsidyClaimApproval,
                on,
                self.actor(Role.FINANCE),
                claim_id=claim_id,
                amount_cents=cents,
            )

    def monthly_claim(
        self,
        key: str,
        month: date,
        scheme: str,
        cents: int,
        proof: UUID,
        placement: UUID | None = None,
        *,
        gpmi: UUID | None = None,
        reject: str = "",
    ) -> None:
        """A monthly claim of ``scheme`` resting on ``proof``, and the payer's answer."""
        claim_id, on = self.story.id(f"claim/{key}"), month_end(month) + days(12)
        self.claim(
            key,
            claim_id,
            on,
            scheme=scheme,
            period=f"{month:%Y-%m}",
            amount_cents=cents,
            form="b" if scheme == "gpmi" else "other",
            form_code="11" if gpmi else None,
            tier_percent=10 if gpmi else None,
            decision_id=self.grant_id if gpmi else None,
            gpmi_id=gpmi,
            placement_id=placement,
            evidence=evidence(proof),
        )
        self.answer(key, claim_id, on, cents, reject=reject)

    def intake(self, on: date) -> None:
        barriers = ["language"] if self.newcomer else []
        barriers += self.rng.sample(
            ["mobility", "childcare", "debts", "housing", "digital_skills"], 1
        )
        self.story.add(
            "intake",
            CompleteIntake,
            on,
            self.actor(Role.SOCIAL_WORKER),
            competences=self.rng.sample(
                ["schoonmaak", "horeca", "logistiek", "groenzorg", "retail", "zorg"], 2
            ),
            dutch_level="a1" if self.newcomer else "c1",
            work_capability="ready_with_support",
            barriers=barriers,
            notes="Afspraken gemaakt over de eerste stappen.",
        )
