"""Leaving the leefloon in a demo case: outflow, end of the right, job checks, closing."""

from __future__ import annotations

from typing import Final
from uuid import UUID

from events.base import Role
from services.commands.case import CloseCase
from services.commands.outflow import RecordOutflow, VerifyEmployment
from services.commands.rights import EndLeefloon
from services.commands.subsidies import RecordSubsidyClaimApproval, RecordSubsidyClaimRejection
from services.demo.cases import CaseWriter
from services.demo.story import days

OUTFLOW_REASONS: Final = (
    ("work", 40),
    ("training", 8),
    ("invalidity", 10),
    ("pension", 5),
    ("moved", 15),
    ("partner_income", 10),
    ("unknown", 12),
)
END_REASON: Final = {
    "work": "income_from_work",
    "own_business": "income_from_work",
    "maatwerk": "income_from_work",
    "unemployment_benefit": "other_benefit",
    "invalidity": "other_benefit",
    "pension": "other_benefit",
    "moved": "moved",
    "partner_income": "other_income",
    "training": "conditions_no_longer_met",
    "unknown": "conditions_no_longer_met",
}


def leave(w: CaseWriter, placement: UUID | None = None, employer: str | None = None) -> None:
    """Record the outflow, end the right (and GPMI), check the job, close the case."""
    if w.outflow_on is None or w.outflow_reason is None:
        return
    s, rng, on, reason = w.story, w.rng, w.outflow_on, w.outflow_reason
    s.add(
        "outflow",
        RecordOutflow,
        on,
        w.actor(Role.SOCIAL_WORKER),
        reason=reason,
        outflow_on=on,
        placement_id=placement,
    )
    decided, decision = on + days(rng.randint(5, 20)), s.id("decision/end")
    s.add(
        "end-right",
        EndLeefloon,
        decided,
        w.actor(Role.BCSD),
        decision_id=decision,
        grant_decision_id=w.grant_id,
        end_date=on - days(1),
        reason=END_REASON[reason],
    )
    w.notify("end-right", decision, decided)
    if reason in ("work", "own_business", "maatwerk"):
        contract = "self_employed" if reason == "own_business" else "open_ended"
        for after in (90, 180, 365):
            s.add(
                f"verify/{after}",
                VerifyEmployment,
                on + days(after),
                w.actor(Role.JOB_COACH),
                source="self_declaration" if reason == "own_business" else "dimona",
                employed=rng.random() < 0.9,
                contract_type=contract,
                employer_kbo=employer,
                employed_since=on,
            )


def close(w: CaseWriter) -> None:
    """Close a case some weeks after its last step (payer answers may still follow)."""
    if w.outflow_on is None:
        return
    answers = (RecordSubsidyClaimApproval, RecordSubsidyClaimRejection)
    last = w.story.last_on(excluding=answers)
    w.story.add("close", CloseCase, last + days(21), w.actor(Role.SOCIAL_WORKER), reason="outflow")
