"""Reading the subsidy history: claims with their steps and evidence, and the audit flags."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, TypeAdapter

from projections.checkpoints import query
from projections.subsidies.rules import (
    RIGHT_SCHEMES,
    STANDING,
    Flag,
    GpmiWindow,
    GrantPeriod,
    Suspension,
    active_in_month,
    gpmi_window_problem,
)
from services.db import Database

_STANDING_SQL = "(" + ", ".join(f"'{s}'" for s in STANDING) + ")"
_DAY = TypeAdapter(date)


class ClaimRow(BaseModel):
    """One claim line as it stands now."""

    model_config = ConfigDict(frozen=True)

    claim_id: UUID
    case_id: UUID
    office_id: str
    person_ref: UUID | None
    scheme: str
    period: str
    amount_cents: int
    form: str
    form_code: str | None
    tier_percent: int | None
    decision_id: UUID | None
    gpmi_id: UUID | None
    placement_id: UUID | None
    rule_version: str | None
    status: str
    approved_cents: int | None
    rejection_code: str | None
    supersedes: UUID | None
    superseded_by: UUID | None
    claimed_by_event: UUID
    claimed_on: date
    recorded_at: datetime


class ClaimStep(BaseModel):
    """One step of a claim's history: what, by whom, when, under which rule version."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    step: str
    amount_cents: int | None
    reason_code: str | None
    other_claim_id: UUID | None
    rule_version: str | None
    actor_user_id: str
    actor_role: str
    occurred_on: date
    recorded_at: datetime


class ClaimHistory(BaseModel):
    """A claim, every step of its history, and what its submission (or correction) rests on."""

    model_config = ConfigDict(frozen=True)

    claim: ClaimRow
    steps: tuple[ClaimStep, ...]
    evidence_event_ids: tuple[UUID, ...]
    evidence_documents: tuple[str, ...]


_CLAIM = tuple(ClaimRow.model_fields)
_STEP = tuple(ClaimStep.model_fields)


def _claims(db: Database, where: str, params: tuple[Any, ...]) -> list[ClaimRow]:
    rows = query(
        db,
        f"SELECT {', '.join(_CLAIM)} FROM subsidy_claims WHERE {where}"  # noqa: S608
        " ORDER BY period, seq",
        params,
    )
    return [ClaimRow.model_validate(dict(zip(_CLAIM, r, strict=True))) for r in rows]


def claims_of_case(db: Database, case_id: UUID, *, office_id: str) -> list[ClaimRow]:
    """The claim lines the office recorded for the case, by month."""
    return _claims(db, "case_id = ? AND office_id = ?", (str(case_id), office_id))


def claims_of_office(db: Database, office_id: str) -> list[ClaimRow]:
    return _claims(db, "office_id = ?", (office_id,))


def claim_history(db: Database, claim_id: UUID, *, office_id: str) -> ClaimHistory | None:
    """The claim with its full status history, if ``office_id`` recorded it."""
    found = _claims(db, "claim_id = ? AND office_id = ?", (str(claim_id), office_id))
    if not found:
        return None
    claim = found[0]
    steps = query(
        db,
        f"SELECT {', '.join(_STEP)} FROM subsidy_claim_steps"  # noqa: S608
        " WHERE claim_id = ? ORDER BY seq",
        (str(claim_id),),
    )
    evidence = query(
        db,
        "SELECT kind, ref FROM subsidy_claim_evidence WHERE claim_id = ? AND event_id = ?"
        " ORDER BY kind, ref",
        (str(claim_id), str(claim.claimed_by_event)),
    )
    return ClaimHistory(
        claim=claim,
        steps=tuple(ClaimStep.model_validate(dict(zip(_STEP, s, strict=True))) for s in steps),
        evidence_event_ids=tuple(UUID(ref) for kind, ref in evidence if kind == "event"),
        evidence_documents=tuple(ref for kind, ref in evidence if kind == "document"),
    )


class AuditFlag(BaseModel):
    """A standing claim line an auditor should look at, and why."""

    model_config = ConfigDict(frozen=True)

    flag: Flag
    claim_id: UUID
    case_id: UUID
    scheme: str
    period: str
    detail: str


def claims_without_evidence(db: Database, office_id: str) -> list[AuditFlag]:
    """Standing claims whose submission or correction names no earlier event as evidence."""
    rows = query(
        db,
        "SELECT c.claim_id, c.case_id, c.scheme, c.period FROM subsidy_claims c"  # noqa: S608
        f" WHERE c.office_id = ? AND c.status IN {_STANDING_SQL} AND NOT EXISTS ("
        " SELECT 1 FROM subsidy_claim_evidence e WHERE e.claim_id = c.claim_id"
        " AND e.event_id = c.claimed_by_event AND e.kind = 'event')",
        (office_id,),
    )
    return [
        AuditFlag(
            flag=Flag.NO_EVIDENCE,
            claim_id=claim,
            case_id=case,
            scheme=scheme,
            period=period,
            detail="the claim rests on no recorded event",
        )
        for claim, case, scheme, period in rows
    ]


def duplicate_claims(db: Database, office_id: str) -> list[AuditFlag]:
    """Standing claims for the same person, scheme and month as another standing claim.

    The same person: the same ``person_ref``, or the same case. A correction supersedes its
    original, so the two never both stand.
    """
    rows = query(
        db,
        "SELECT a.claim_id, a.case_id, a.scheme, a.period, b.claim_id"  # noqa: S608
        " FROM subsidy_claims a JOIN subsidy_claims b"
        " ON b.scheme = a.scheme AND b.period = a.period AND b.claim_id <> a.claim_id"
        " AND (b.case_id = a.case_id OR b.person_ref = a.person_ref)"
        f" WHERE a.office_id = ? AND b.office_id = ? AND a.status IN {_STANDING_SQL}"
        f" AND b.status IN {_STANDING_SQL}",
        (office_id, office_id),
    )
    others: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for claim, case, scheme, period, other in rows:
        others[(claim, case, scheme, period)].append(str(other))
    return [
        AuditFlag(
            flag=Flag.DUPLICATE,
            claim_id=claim,
            case_id=case,
            scheme=scheme,
            period=period,
            detail=f"also claimed by {', '.join(sorted(seen))}",
        )
        for (claim, case, scheme, period), seen in others.items()
    ]


def _standing(db: Database, office_id: str, schemes: Sequence[str]) -> list[tuple[Any, ...]]:
    marks = ", ".join("?" for _ in schemes)
    return query(
        db,
        "SELECT claim_id, case_id, scheme, period, gpmi_id FROM subsidy_claims"  # noqa: S608
        f" WHERE office_id = ? AND status IN {_STANDING_SQL} AND scheme IN ({marks})",
        (office_id, *schemes),
    )


def _of_claimed_cases(db: Database, columns: str, table: str, office_id: str) -> list[Any]:
    return query(
        db,
        f"SELECT case_id, {columns} FROM {table} WHERE case_id IN ("  # noqa: S608
        " SELECT case_id FROM subsidy_claims WHERE office_id = ?)",
        (office_id,),
    )


def _day(value: Any) -> date:
    return _DAY.validate_python(value)


def _maybe_day(value: Any) -> date | None:
    return None if value is None else _day(value)


def claims_without_active_right(
    db: Database, office_id: str, schemes: Sequence[str] = RIGHT_SCHEMES
) -> list[AuditFlag]:
    """Standing claims of ``schemes`` for a month in which the case had no active right."""
    grants: dict[str, list[GrantPeriod]] = defaultdict(list)
    for case, decision, start, until, ended in _of_claimed_cases(
        db, "decision_id, effective_from, effective_until, ended_on", "subsidy_grants", office_id
    ):
        grants[str(case)].append(
            GrantPeriod(str(decision), _day(start), _maybe_day(until), _maybe_day(ended))
        )
    suspensions: dict[str, list[Suspension]] = defaultdict(list)
    for case, grant, start, until, resumed in _of_claimed_cases(
        db,
        "grant_decision_id, suspended_from, suspended_until, resumed_from",
        "subsidy_suspensions",
        office_id,
    ):
        suspensions[str(case)].append(
            Suspension(str(grant), _day(start), _maybe_day(until), _maybe_day(resumed))
        )
    return [
        AuditFlag(
            flag=Flag.NO_ACTIVE_RIGHT,
            claim_id=claim,
            case_id=case,
            scheme=scheme,
            period=period,
            detail=f"no day of {period} lies in a granted, unsuspended right",
        )
        for claim, case, scheme, period, _ in _standing(db, office_id, schemes)
        if not active_in_month(grants[str(case)], suspensions[str(case)], period)
    ]


def gpmi_claims_outside_window(db: Database, office_id: str) -> list[AuditFlag]:
    """Standing GPMI claims for a month outside the GPMI's subsidy window."""
    windows: dict[str, list[GpmiWindow]] = defaultdict(list)
    for case, gpmi, signed, extended, ended in _of_claimed_cases(
        db, "gpmi_id, signed_on, extended_until, ended_on", "subsidy_gpmis", office_id
    ):
        windows[str(case)].append(
            GpmiWindow(str(gpmi), _day(signed), _maybe_day(extended), _maybe_day(ended))
        )
    flags = []
    for claim, case, scheme, period, gpmi in _standing(db, office_id, ("gpmi",)):
        problem = gpmi_window_problem(
            period, None if gpmi is None else str(gpmi), windows[str(case)]
        )
        if problem is not None:
            flags.append(
                AuditFlag(
                    flag=Flag.GPMI_OUTSIDE_WINDOW,
                    claim_id=claim,
                    case_id=case,
                    scheme=scheme,
                    period=period,
                    detail=problem,
                )
            )
    return flags


def audit_flags(db: Database, office_id: str) -> list[AuditFlag]:
    """Every flag on the office's standing claims, by month, claim and flag."""
    found = [
        *claims_without_evidence(db, office_id),
        *duplicate_claims(db, office_id),
        *claims_without_active_right(db, office_id),
        *gpmi_claims_outside_window(db, office_id),
    ]
    return sorted(found, key=lambda f: (f.period, str(f.claim_id), f.flag.value))
