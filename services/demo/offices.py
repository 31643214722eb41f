"""The three demo offices, shaped after the press texts in ../shared/seeds (all invented data).

- Blankenberge (Jobkracht 10): language trajectories for newcomers, group projects (De
  Moestuin, De Busters, De Kokkerel, De Inspraak), work trajectories; the LAP call 2
  engagement "20 % above the Flemish average", rewarded with EUR 60,000.
- Essen: one arbeidstrajectbemiddelaar with VDAB, TWE at the kringwinkel De Cirkel and
  Natuurwerk; many newcomers from Ukraine (equivalent leefloon) in language courses;
  outflow to work, invalidity or pension.
- Menen: five trajectory counsellors, TWE with ten private employers, aftercare
  (nazorg) with the 2018 outcome mix 46 job / 16 training / 7 maatwerk / 2 own business /
  12 unemployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from services.demo.people import kbo


@dataclass(frozen=True)
class Employer:
    name: str
    kbo: str
    for_profit: bool


@dataclass(frozen=True)
class OfficeProfile:
    nis: str
    municipality: str
    postal_code: str
    streets: tuple[str, ...]
    cases: int
    newcomer_share: float  # anderstaligen: a language trajectory first
    equivalent_share: float  # equivalent leefloon (e.g. people displaced from Ukraine)
    social_activation_share: float
    placement_share: float  # of work trajectories
    aftercare_share: float  # of placements
    aftercare_outcomes: tuple[tuple[str, int], ...]
    group_projects: tuple[str, ...]
    employers: tuple[Employer, ...]
    social_workers: int
    counsellors: int
    counsellor_role: str
    lap_baseline: int
    lap_extra: int
    lap_budget_cents: int


MENEN_AFTERCARE: Final = (
    ("permanent_job", 46),
    ("training", 16),
    ("maatwerk", 7),
    ("own_business", 2),
    ("unemployed", 12),
)

OFFICES: Final = (
    OfficeProfile(
        nis="31004",
        municipality="Blankenberge",
        postal_code="8370",
        streets=("Kerkstraat", "Zeedijk", "Weststraat", "Langestraat", "Molenstraat"),
        cases=140,
        newcomer_share=0.3,
        equivalent_share=0.05,
        social_activation_share=0.25,
        placement_share=0.6,
        aftercare_share=0.35,
        aftercare_outcomes=(
            ("permanent_job", 60),
            ("temporary_job", 15),
            ("training", 10),
            ("unemployed", 15),
        ),
        group_projects=("de-moestuin", "de-busters", "de-kokkerel", "de-inspraak"),
        employers=(
            Employer("Lokaal bestuur Blankenberge (diensten)", kbo(2_070_001), False),
            Employer("vzw Oranje (sociale kruidenier)", kbo(4_310_002), False),
            Employer("Het Kinderpaleis", kbo(4_310_003), False),
            Employer("Hotel aan zee", kbo(6_310_004), True),
            Employer("Schoonmaak Kust", kbo(6_310_005), True),
        ),
        social_workers=5,
        counsellors=4,
        counsellor_role="trajectory_counsellor",
        lap_baseline=40,
        lap_extra=8,
        lap_budget_cents=6_000_000,
    ),
    OfficeProfile(
        nis="11016",
        municipality="Essen",
        postal_code="2910",
        streets=("Kerkstraat", "Heuvelplein", "Nieuwstraat", "Moerkantsebaan", "Stationsstraat"),
        cases=60,
        newcomer_share=0.35,
        equivalent_share=0.3,
        social_activation_share=0.15,
        placement_share=0.5,
        aftercare_share=0.2,
        aftercare_outcomes=(("permanent_job", 70), ("temporary_job", 10), ("unemployed", 20)),
        group_projects=("jobcafe",),
        employers=(
            Employer("Kringwinkel De Cirkel", kbo(4_110_001), False),
            Employer("Natuurwerk", kbo(4_110_002), False),
            Employer("Logistiek Kempen", kbo(6_110_003), True),
        ),
        social_workers=3,
        counsellors=1,
        counsellor_role="job_coach",
        lap_baseline=10,
        lap_extra=2,
        lap_budget_cents=1_500_000,
    ),
    OfficeProfile(
        nis="34027",
        municipality="Menen",
        postal_code="8930",
        streets=("Kortrijkstraat", "Rijselstraat", "Ieperstraat", "Bruggestraat", "Grote Markt"),
        cases=110,
        newcomer_share=0.2,
        equivalent_share=0.05,
        social_activation_share=0.2,
        placement_share=0.7,
        aftercare_share=0.7,
        aftercare_outcomes=MENEN_AFTERCARE,
        group_projects=("groepsmodule-werkattitude", "voortraject-logistiek"),
        employers=(
            Employer("OCMW Menen (eigen diensten)", kbo(2_340_001), False),
            *(
                Employer(f"Privewerkgever Menen {i}", kbo(6_340_000 + i), True)
                for i in range(1, 11)
            ),
        ),
        social_workers=6,
        counsellors=5,
        counsellor_role="trajectory_counsellor",
        lap_baseline=30,
        lap_extra=6,
        lap_budget_cents=4_000_000,
    ),
)
