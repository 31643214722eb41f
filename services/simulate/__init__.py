"""``doorstroom simulate``: seeded histories of many offices, as import files in a safe order.

The stories are the demo's (``services.demo``: request, inquiry, BCSD decision and its
notification, indexation, monthly payments and formulier B claims, VDAB, intake,
trajectory, GPMI with evaluations and +10 % claims, language courses, group projects,
referrals, TWE/art. 60 and art. 61 placements with MLP months and claims, aftercare,
sanctions after a warning, outflow by reason, employment checks, closing), spread over
many offices and a longer window, with two things the demo lacks: transfers to another
office and events recorded late.

Rates and where they come from (``../shared/docs/domain.md``; [I] = inference):

- GPMI for 85 % of grants, evaluated every 4 months, 2 of 3 in person [S3, S6; share I];
  +10 % claims for the 12 months from the month of signing [S2].
- TWE: 250 EUR a month, only for months registered in MLP on their last day; a month not
  registered (4 %) is claimed and rejected; art. 60 195 EUR a month [S9]; art. 61 premium
  pro rata to 250 EUR full-time with for-profit employers [S12]. Amounts and versions come
  from ``projections/rules``.
- Aftercare outcomes of Menen 2018 (46 job / 16 training / 7 maatwerk / 2 own business /
  12 unemployed) for the Menen-like offices [seed 004]; outflow reasons of the demo [I].
- The federal refund tier (55 / 65 / 70 %) from the office's average monthly beneficiaries
  by the rule book's thresholds [S1]; the average is estimated from the simulated office
  (the real rule looks at the year before last).
- LAP call engagements: baseline a fifth of the yearly inflow, 20 % extra [S13, seed 000]
  and the call budget pro rata to the office's share of clients [S13].
- Refusals 5 %, claim corrections 3 %, sanctions 4 % of GPMIs (demo shares [I]).
- Office sizes: a Zipf law (weight 1/rank): a few city offices hold most clients, as in
  Flanders, where Antwerp and Ghent carry a large share of the leefloners [I].
- Transfers: 2 % of cases move to another office midway (territorial competence) [I].
- Late recordings: 5 % of decision notifications, GPMI evaluations and group-project
  attendance are recorded 2 to 8 weeks after their business date [I].

Offices: the demo's Blankenberge, Essen and Menen (real NIS codes), then invented offices
with codes ``99001``, ``99002``, ... (no Belgian municipality has a code starting with 99),
written to ``offices.json`` for ``DOORSTROOM_OFFICES_FILE``.

Amounts exist in the rule book from 1 May 2024 (``projections/rules/data/leefloon.toml``),
so the window starts there at the earliest; it ends today at the latest, since the domain
refuses business dates after today.
"""

from services.simulate.run import SimulationConfig, import_simulation, simulate

__all__ = ["SimulationConfig", "import_simulation", "simulate"]
