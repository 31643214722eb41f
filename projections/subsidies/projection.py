"""The ``subsidy_history`` read model: every claim with each step of its history, and the
right periods and GPMI windows the audit queries check claims against."""

from __future__ import annotations

from events.codec import RecordedEvent
from events.gpmi import GpmiEnded, GpmiExtended, GpmiSigned
from events.rights import LeefloonEnded, LeefloonGranted, LeefloonResumed, LeefloonSuspended
from events.subsidies import (
    ClaimBody,
    SubsidyClaimApproved,
    SubsidyClaimCorrected,
    SubsidyClaimRejected,
)
from projections.journal import CaseProjection
from projections.projection import Tx, update_one
from projections.subsidies.tables import TABLES

subsidy_history = CaseProjection(name="subsidy_history", version=1, tables=TABLES)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _step(
    tx: Tx,
    rec: RecordedEvent,
    claim_id: object,
    step: str,
    *,
    amount_cents: int | None = None,
    reason_code: str | None = None,
    other_claim_id: object = None,
) -> None:
    """One step of a claim's history: what happened, by whom, when, under which rule version."""
    meta = rec.meta
    tx.execute(
        "INSERT INTO subsidy_claim_steps (claim_id, event_id, case_id, step, amount_cents,"
        " reason_code, other_claim_id, rule_version, actor_user_id, actor_role, occurred_on,"
        " recorded_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            str(claim_id),
            str(meta.event_id),
            str(meta.case_id),
            step,
            amount_cents,
            reason_code,
            _text(other_claim_id),
            meta.rule_version,
            meta.actor.user_id,
            meta.actor.role.value,
            meta.occurred_on.isoformat(),
            meta.recorded_at.isoformat(),
            rec.seq,
        ),
    )
    for evidence in meta.evidence:
        tx.execute(
            "INSERT INTO subsidy_claim_evidence (claim_id, event_id, case_id, kind, ref)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (str(claim_id), str(meta.event_id), str(meta.case_id), evidence.kind, evidence.ref),
        )


def _new_claim(
    tx: Tx, rec: RecordedEvent, body: ClaimBody, status: str, supersedes: object
) -> None:
    meta = rec.meta
    tx.execute(
        "INSERT INTO subsidy_claims (claim_id, case_id, office_id, person_ref, scheme, period,"
        " amount_cents, form, form_code, tier_percent, decision_id, gpmi_id, placement_id,"
        " rule_version, status, supersedes, claimed_by_event, claimed_on, recorded_at, seq)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            str(body.claim_id),
            str(meta.case_id),
            meta.office_id,
            _text(meta.person_ref),
            body.scheme.value,
            body.period,
            body.amount_cents,
            body.form.value,
            body.form_code,
            body.tier_percent,
            _text(body.decision_id),
            _text(body.gpmi_id),
            _text(body.placement_id),
            meta.rule_version,
            status,
            _text(supersedes),
            str(meta.event_id),
            meta.occurred_on.isoformat(),
            meta.recorded_at.isoformat(),
            rec.seq,
        ),
    )
    _step(tx, rec, body.claim_id, status, amount_cents=body.amount_cents, other_claim_id=supersedes)


def _change_claim(
    tx: Tx,
    rec: RecordedEvent,
    claim_id: object,
    assignments: str,
    *values: object,
    not_superseded: bool = False,
) -> None:
    """Change a claim line of this case (one not yet superseded if asked); else stop."""
    case_id = str(rec.meta.case_id)
    condition = " AND superseded_by IS NULL" if not_superseded else ""
    which = "a claim line not yet superseded" if not_superseded else "a claim line"
    update_one(
        tx,
        f"UPDATE subsidy_claims SET {assignments}"  # noqa: S608
        f" WHERE claim_id = ? AND case_id = ?{condition}",
        (*values, str(claim_id), case_id),
        f"{rec.name} names claim {claim_id}, not {which} of case {case_id}",
    )


# A payer's answer on a line that was superseded meanwhile is kept in its history; the line
# stays superseded.
_STATUS = "status = CASE WHEN superseded_by IS NULL THEN ? ELSE status END"


@subsidy_history.on("SubsidyClaimSubmitted")
def submitted(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, ClaimBody)
    _new_claim(tx, rec, rec.event, "submitted", None)


@subsidy_history.on("SubsidyClaimCorrected")
def corrected(tx: Tx, rec: RecordedEvent) -> None:
    """The new claim line replaces the old one, whose history ends with 'superseded'."""
    assert isinstance(rec.event, SubsidyClaimCorrected)
    e = rec.event
    _change_claim(
        tx,
        rec,
        e.supersedes,
        "status = 'superseded', superseded_by = ?",
        str(e.claim_id),
        not_superseded=True,
    )
    _step(tx, rec, e.supersedes, "superseded", other_claim_id=e.claim_id)
    _new_claim(tx, rec, e, "corrected", e.supersedes)


@subsidy_history.on("SubsidyClaimApproved")
def approved(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, SubsidyClaimApproved)
    e = rec.event
    _change_claim(
        tx,
        rec,
        e.claim_id,
        f"{_STATUS}, approved_cents = ?, rejection_code = NULL",
        "approved",
        e.amount_cents,
    )
    _step(tx, rec, e.claim_id, "approved", amount_cents=e.amount_cents)


@subsidy_history.on("SubsidyClaimRejected")
def rejected(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, SubsidyClaimRejected)
    e = rec.event
    _change_claim(
        tx,
        rec,
        e.claim_id,
        f"{_STATUS}, rejection_code = ?, approved_cents = NULL",
        "rejected",
        e.reason_code,
    )
    _step(tx, rec, e.claim_id, "rejected", reason_code=e.reason_code)


# --- right periods -----------------------------------------------------------------------


@subsidy_history.on("LeefloonGranted")
def granted(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, LeefloonGranted)
    e = rec.event
    tx.execute(
        "INSERT INTO subsidy_grants (case_id, decision_id, right_type, effective_from,"
        " effective_until) VALUES (?, ?, ?, ?, ?)",
        (
            str(rec.meta.case_id),
            str(e.decision_id),
            e.right_type.value,
            e.effective_from.isoformat(),
            _text(e.effective_until),
        ),
    )


def _known_grant(tx: Tx, rec: RecordedEvent, grant: object) -> None:
    case_id = str(rec.meta.case_id)
    found = tx.execute(
        "SELECT 1 FROM subsidy_grants WHERE case_id = ? AND decision_id = ?", (case_id, str(grant))
    ).fetchone()
    if found is None:
        raise LookupError(f"{rec.name} names grant {grant}, which case {case_id} does not have")


@subsidy_history.on("LeefloonSuspended")
def suspended(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, LeefloonSuspended)
    e = rec.event
    _known_grant(tx, rec, e.grant_decision_id)
    tx.execute(
        "INSERT INTO subsidy_suspensions (case_id, decision_id, grant_decision_id,"
        " suspended_from, suspended_until, seq) VALUES (?, ?, ?, ?, ?, ?)",
        (
            str(rec.meta.case_id),
            str(e.decision_id),
            str(e.grant_decision_id),
            e.suspended_from.isoformat(),
            _text(e.suspended_until),
            rec.seq,
        ),
    )


@subsidy_history.on("LeefloonResumed")
def resumed(tx: Tx, rec: RecordedEvent) -> None:
    """Payment resumes after the grant's latest suspension that has not been resumed yet."""
    assert isinstance(rec.event, LeefloonResumed)
    e = rec.event
    case_id, grant = str(rec.meta.case_id), str(e.grant_decision_id)
    latest = tx.execute(
        "SELECT decision_id FROM subsidy_suspensions WHERE case_id = ? AND grant_decision_id = ?"
        " AND resumed_from IS NULL ORDER BY seq DESC LIMIT 1",
        (case_id, grant),
    ).fetchone()
    if latest is None:
        raise LookupError(f"LeefloonResumed: grant {grant} of case {case_id} is not suspended")
    tx.execute(
        "UPDATE subsidy_suspensions SET resumed_from = ? WHERE case_id = ? AND decision_id = ?",
        (e.resumed_from.isoformat(), case_id, latest[0]),
    )


@subsidy_history.on("LeefloonEnded")
def right_ended(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, LeefloonEnded)
    e = rec.event
    _known_grant(tx, rec, e.grant_decision_id)
    tx.execute(
        "UPDATE subsidy_grants SET ended_on = ? WHERE case_id = ? AND decision_id = ?",
        (e.end_date.isoformat(), str(rec.meta.case_id), str(e.grant_decision_id)),
    )


# --- GPMI windows ------------------------------------------------------------------------


@subsidy_history.on("GpmiSigned")
def gpmi_signed(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, GpmiSigned)
    tx.execute(
        "INSERT INTO subsidy_gpmis (case_id, gpmi_id, signed_on) VALUES (?, ?, ?)",
        (str(rec.meta.case_id), str(rec.event.gpmi_id), rec.meta.occurred_on.isoformat()),
    )


def _change_gpmi(tx: Tx, rec: RecordedEvent, gpmi: object, column: str, day: str) -> None:
    case_id = str(rec.meta.case_id)
    update_one(
        tx,
        f"UPDATE subsidy_gpmis SET {column} = ? WHERE case_id = ? AND gpmi_id = ?",  # noqa: S608
        (day, case_id, str(gpmi)),
        f"{rec.name} names GPMI {gpmi}, which case {case_id} does not have",
    )


@subsidy_history.on("GpmiExtended")
def gpmi_extended(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, GpmiExtended)
    e = rec.event
    _change_gpmi(tx, rec, e.gpmi_id, "extended_until", e.extended_until.isoformat())


@subsidy_history.on("GpmiEnded")
def gpmi_ended(tx: Tx, rec: RecordedEvent) -> None:
    assert isinstance(rec.event, GpmiEnded)
    _change_gpmi(tx, rec, rec.event.gpmi_id, "ended_on", rec.meta.occurred_on.isoformat())


@subsidy_history.on("EventRetracted")
def retracted(tx: Tx, rec: RecordedEvent) -> None:
    """Nothing beyond the rebuild of the case, which the journal already did."""
