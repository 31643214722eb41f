"""The simulated offices: the three demo offices and invented ones, sized by a Zipf law."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Final

from projections.rules import RuleBook, percent_of
from services.demo.offices import OFFICES, Employer, OfficeProfile
from services.demo.people import kbo
from services.demo.story import Staff

INVENTED_PREFIX: Final = "99"
"""No Belgian municipality's NIS code starts with 99: invented offices never look real."""
MAX_OFFICES: Final = len(OFFICES) + 999
CLIENTS_PER_SOCIAL_WORKER: Final = 150  # clients over the window, not at once [I]
CLIENTS_PER_COUNSELLOR: Final = 250  # [I]
EMPLOYERS_PER_CLIENT: Final = 0.2  # how many of the pool an office works with [I]
FOR_PROFIT_SHARE: Final = 0.7  # of the employers in the pool [I]
LAP_BASELINE_SHARE: Final = 0.2  # of the yearly inflow [I]
LAP_REGISTERED_DAYS_BEFORE: Final = 11  # the demo registers call 2 on 20 November


@dataclass(frozen=True)
class SimOffice:
    """An office with its share of the clients (``weight``, summing to 1 over all)."""

    profile: OfficeProfile
    name: str
    weight: float

    @property
    def nis(self) -> str:
        return self.profile.nis

    @property
    def staff(self) -> Staff:
        p = self.profile
        return Staff(p.nis, p.social_workers, p.counsellors, p.counsellor_role)


def employer_pool(size: int, seed: int) -> tuple[Employer, ...]:
    """Invented employers with valid KBO check digits, most of them companies."""
    rng = random.Random(f"{seed}/employers")  # noqa: S311 - seeded simulation
    return tuple(
        Employer(f"Werkgever {i:05d}", kbo(5_000_000 + i), rng.random() < FOR_PROFIT_SHARE)
        for i in range(1, size + 1)
    )


def office_codes(count: int) -> list[tuple[str, str, OfficeProfile]]:
    """(NIS code, name, template profile) of ``count`` offices: the demo's first."""
    if not 1 <= count <= MAX_OFFICES:
        raise ValueError(f"offices: between 1 and {MAX_OFFICES}")
    codes = [(p.nis, f"OCMW {p.municipality}", p) for p in OFFICES[:count]]
    for i in range(1, count - len(codes) + 1):
        nis = f"{INVENTED_PREFIX}{i:03d}"
        codes.append((nis, f"Gesimuleerd OCMW {nis}", OFFICES[i % len(OFFICES)]))
    return codes


def build_offices(
    count: int, clients: int, employers: tuple[Employer, ...], seed: int
) -> list[SimOffice]:
    """The offices with Zipf weights in a seeded order and staff scaled to their clients."""
    rng = random.Random(f"{seed}/offices")  # noqa: S311 - seeded simulation
    codes = office_codes(count)
    ranks = list(range(1, count + 1))
    rng.shuffle(ranks)
    total = sum(1 / r for r in ranks)
    offices = []
    for (nis, name, template), rank in zip(codes, ranks, strict=True):
        weight = (1 / rank) / total
        expected = max(1, round(clients * weight))
        own = template.employers[0] if nis == template.nis else _own(nis)
        local = template.employers[1:] if nis == template.nis else ()
        wanted = min(len(employers), max(2, round(expected * EMPLOYERS_PER_CLIENT)))
        profile = replace(
            template,
            nis=nis,
            municipality=name.removeprefix("OCMW ").removeprefix("Gesimuleerd OCMW "),
            postal_code=template.postal_code if nis == template.nis else f"{8000 + rank % 2000}",
            cases=expected,
            employers=(own, *local, *rng.sample(employers, wanted)),
            social_workers=max(1, math.ceil(expected / CLIENTS_PER_SOCIAL_WORKER)),
            counsellors=max(1, math.ceil(expected / CLIENTS_PER_COUNSELLOR)),
        )
        offices.append(SimOffice(profile, name, weight))
    return offices


def _own(nis: str) -> Employer:
    """The OCMW itself as the art. 60 employer (its own services)."""
    return Employer(f"OCMW {nis} (eigen diensten)", kbo(2_000_000 + int(nis) % 1_000_000), False)


def refund_tier(rules: RuleBook, average_beneficiaries: float, on: date) -> int:
    """The refund percentage for an office's average monthly beneficiaries [S1]."""
    version = rules.at("refund", on)
    percent = int(version.param("base_percent"))
    for tier in version.param("tiers"):
        if average_beneficiaries >= tier["min_average_beneficiaries"]:
            percent = max(percent, int(tier["percent"]))
    return percent


@dataclass(frozen=True)
class LapCall:
    """An office's engagement in one LAP call."""

    call_id: str
    registered_on: date
    call_from: date
    call_to: date
    baseline: int
    extra: int
    budget_cents: int


def lap_calls(
    rules: RuleBook, office: SimOffice, yearly_inflow: float, first: date, last: date
) -> list[LapCall]:
    """The calls registered inside the window: baseline, +20 % and the budget pro rata."""
    calls = []
    for version in rules.rules["lap"].versions:
        registered = version.valid_from.fromordinal(
            version.valid_from.toordinal() - LAP_REGISTERED_DAYS_BEFORE
        )
        if not first <= registered <= last or version.valid_to is None:
            continue
        baseline = max(1, round(yearly_inflow * LAP_BASELINE_SHARE))
        engagement = Decimal(version.param("min_engagement_percent"))
        extra = max(1, math.ceil(baseline * engagement / 100))
        budget = percent_of(int(version.param("budget_cents")), Decimal(office.weight * 100))
        calls.append(
            LapCall(
                version.version,
                registered,
                version.valid_from,
                version.valid_to,
                baseline,
                extra,
                max(budget, 1),
            )
        )
    return calls
