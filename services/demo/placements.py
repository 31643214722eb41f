"""Placements of demo cases: TWE/art. 60 and art. 61, MLP months, claims, aftercare."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Final
from uuid import UUID

from events.base import Role
from services.commands.placements import (
    EndAftercare,
    EndPlacement,
    RecordMlpRegistration,
    StartAftercare,
    StartPlacement,
)
from services.demo.cases import CaseWriter, weighted
from services.demo.story import days, month_end, months
from services.domain.deadlines import add_months

AFTERCARE_OUTFLOW: Final = {
    "permanent_job": "work",
    "temporary_job": "work",
    "training": "training",
    "maatwerk": "maatwerk",
    "own_business": "own_business",
    "unemployed": "unemployment_benefit",  # the art. 60 job opened the right to benefits
    "other": "unknown",
}


def place(w: CaseWriter, trajectory: UUID, on: date) -> tuple[UUID, str]:
    """A TWE/art. 60 or art. 61 placement with its months; (placement, employer KBO)."""
    rng, s, p = w.rng, w.story, w.profile
    placement, own = s.id("placement/1"), p.employers[0]
    employer = rng.choice(p.employers)
    art61 = employer.for_profit and rng.random() < 0.35
    planned_end = add_months(on, rng.choice((6, 9, 12))) - days(1)
    coach = w.actor(Role(p.counsellor_role))
    placed = None if art61 or employer is own else employer.kbo
    hours = rng.choice(["19", "25", "30", "38"])
    started = s.add(
        "placement/1",
        StartPlacement,
        on,
        coach,
        placement_id=placement,
        placement_type="art61" if art61 else "twe_art60",
        employer_kbo=employer.kbo if art61 else own.kbo,
        placed_with_kbo=placed,
        hours_per_week=hours,
        trajectory_id=trajectory,
        contract="fixed_term" if art61 else "werkervaringsovereenkomst",
        agreement_signed_on=on - days(10) if placed else None,
        planned_end=planned_end,
        starts_on=on,
        mlp_ref=None if art61 else f"MLP-{s.nis}-{w.number:04d}",
    )
    end = _placement_outcome(w, placement, on, planned_end)
    for month in months(on, min(end, w.last_day)):
        if art61:
            premium = w.rules.art61_premium(Decimal(hours), month)
            w.monthly_claim(
                f"art61/{month:%Y-%m}", month, "art61", premium.cents, started, placement
            )
        else:
            _twe_month(w, month, placement, started)
    return placement, employer.kbo


def _placement_outcome(w: CaseWriter, placement: UUID, on: date, planned_end: date) -> date:
    """End the placement (or plan the outflow that ends it); the last day worked."""
    rng, s, coach = w.rng, w.story, w.actor(Role(w.profile.counsellor_role))
    if rng.random() < 0.1:
        stopped = on + days(rng.randint(30, 120))
        s.add(
            "placement/1/end",
            EndPlacement,
            stopped,
            coach,
            placement_id=placement,
            reason="early_stop",
        )
        return stopped
    if rng.random() < w.profile.aftercare_share:
        aftercare, outcome = s.id("aftercare/1"), weighted(rng, w.profile.aftercare_outcomes)
        nazorg = w.actor(Role.AFTERCARE_COUNSELLOR)
        s.add(
            "aftercare/1",
            StartAftercare,
            planned_end - days(30),
            nazorg,
            aftercare_id=aftercare,
            placement_id=placement,
            planned_until=add_months(planned_end, 6),
        )
        s.add(
            "aftercare/1/end",
            EndAftercare,
            planned_end + days(rng.randint(60, 150)),
            nazorg,
            aftercare_id=aftercare,
            outcome=outcome,
        )
        w.outflow_reason = AFTERCARE_OUTFLOW[outcome]
    elif rng.random() < 0.4:  # hired by the user organisation before the end
        w.outflow_on = planned_end - days(rng.randint(0, 60))
        w.outflow_reason = "work"
        return w.outflow_on - days(1)
    else:
        w.outflow_reason = "unemployment_benefit"
    s.add(
        "placement/1/end",
        EndPlacement,
        planned_end,
        coach,
        placement_id=placement,
        reason="completed",
    )
    w.outflow_on = planned_end + days(1)
    return planned_end


def _twe_month(w: CaseWriter, month: date, placement: UUID, started: UUID) -> None:
    """VDAB pays the TWE effort only for months registered in MLP on their last day."""
    s, period = w.story, f"{month:%Y-%m}"
    if w.rng.random() < 0.04:  # forgotten: VDAB rejects that month's claim
        w.monthly_claim(
            f"twe/{period}",
            month,
            "twe",
            25_000,
            started,
            placement,
            reject="mlp-not-registered",
        )
        return
    registered = s.add(
        f"mlp/{period}",
        RecordMlpRegistration,
        month_end(month),
        w.actor(Role(w.profile.counsellor_role)),
        placement_id=placement,
        month=period,
        registered_on=month_end(month),
    )
    w.monthly_claim(f"twe/{period}", month, "twe", 25_000, registered, placement)
    w.monthly_claim(f"art60/{period}", month, "art60", 19_500, started, placement)
