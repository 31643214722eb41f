"""Subsidy claims rest on evidence events of the case; one claim per scheme and month."""

from __future__ import annotations

import uuid

from services.commands.case import CloseCase, RetractEvent
from services.commands.subsidies import (
    CorrectSubsidyClaim,
    RecordSubsidyClaimApproval,
    RecordSubsidyClaimRejection,
    RegisterLapEngagement,
    SubmitSubsidyClaim,
)
from tests.support.domain import CLAIM, GPMI, GRANT, Case, event_ref, names


def signed() -> Case:
    return Case().with_gpmi()


def claim(case: Case, **fields: object) -> SubmitSubsidyClaim:
    body = {
        "claim_id": CLAIM,
        "scheme": "gpmi",
        "period": "2025-03",
        "decision_id": GRANT,
        "gpmi_id": GPMI,
        "placement_id": None,
        "evidence": [event_ref(case.last_id("GpmiSigned"))],
    }
    return case.cmd(SubmitSubsidyClaim, **{**body, **fields})


def correction(case: Case, **fields: object) -> CorrectSubsidyClaim:
    body = claim(case).model_dump(exclude={"command_id"})
    body.update(claim_id=uuid.uuid4(), supersedes=CLAIM, changes=["amount"], amount_cents=20_000)
    return case.cmd(CorrectSubsidyClaim, **{**body, **fields})


def test_a_claim_names_evidence_events_of_the_same_case() -> None:
    case = signed()
    refusal = case.refused(claim(case, evidence=[]))
    assert (refusal.code, refusal.field) == ("claim_without_evidence", "evidence")
    document = [{"kind": "document", "ref": "doc-2025-0042"}]
    assert case.refused(claim(case, evidence=document)).code == "claim_without_evidence"
    elsewhere = [event_ref(signed().last_id("GpmiSigned"))]
    refusal = case.refused(claim(case, evidence=elsewhere))
    assert (refusal.code, refusal.field) == ("unknown_evidence", "evidence")
    assert names(case.when(claim(case))) == ["SubsidyClaimSubmitted"]


def test_a_claim_does_not_rest_on_a_retracted_event() -> None:
    case = signed()
    evidence = case.last_id("TrajectoryStarted")
    case.given(case.cmd(RetractEvent, retracted_event_id=evidence))
    assert case.refused(claim(case, evidence=[event_ref(evidence)])).code == "evidence_withdrawn"


def test_the_same_scheme_and_month_are_not_claimed_twice() -> None:
    case = signed()
    case.given(claim(case))
    refusal = case.refused(claim(case, claim_id=uuid.uuid4()))
    assert (refusal.code, refusal.field) == ("claim_already_made", "period")
    assert names(case.when(claim(case, claim_id=uuid.uuid4(), period="2025-04")))
    assert names(case.when(claim(case, claim_id=uuid.uuid4(), scheme="rmi_base")))


def test_a_correction_claims_the_same_scheme_and_month_again() -> None:
    case = signed()
    case.given(claim(case))
    fix = correction(case)
    assert names(case.when(fix)) == ["SubsidyClaimCorrected"]
    case.given(fix)
    assert case.state.claims[CLAIM].superseded_by is not None
    assert case.refused(claim(case, claim_id=uuid.uuid4())).code == "claim_already_made"


def test_a_claim_is_corrected_once() -> None:
    case = signed()
    case.given(claim(case))
    case.given(correction(case))
    refusal = case.refused(correction(case))
    assert (refusal.code, refusal.field) == ("claim_already_superseded", "supersedes")


def test_a_correction_names_a_claim_of_the_case() -> None:
    case = signed()
    refusal = case.refused(correction(case))
    assert (refusal.code, refusal.field) == ("unknown_claim", "supersedes")


def test_a_retracted_claim_frees_its_month() -> None:
    case = signed()
    case.given(claim(case))
    case.given(case.cmd(RetractEvent, retracted_event_id=case.last_id("SubsidyClaimSubmitted")))
    assert names(case.when(claim(case, claim_id=uuid.uuid4()))) == ["SubsidyClaimSubmitted"]


def test_the_payer_answers_a_live_claim_once() -> None:
    case = signed()
    approve = case.cmd(RecordSubsidyClaimApproval, claim_id=CLAIM)
    assert case.refused(approve).code == "unknown_claim"
    case.given(claim(case), approve)
    reject = case.cmd(RecordSubsidyClaimRejection, claim_id=CLAIM)
    assert (case.refused(reject).code, case.refused(reject).field) == (
        "claim_already_decided",
        "claim_id",
    )
    case.given(correction(case))
    assert case.refused(reject).code == "claim_superseded"


def test_a_claim_names_references_of_the_case() -> None:
    case = signed()
    for field in ("decision_id", "gpmi_id", "placement_id"):
        refusal = case.refused(claim(case, **{field: uuid.uuid4()}))
        assert (refusal.code, refusal.field) == ("unknown_reference", field)


def test_a_lap_call_is_registered_once_per_ledger() -> None:
    ledger = Case()
    ledger.given(ledger.cmd(RegisterLapEngagement, call_id="lap-2"))
    refusal = ledger.refused(ledger.cmd(RegisterLapEngagement, call_id="lap-2"))
    assert (refusal.code, refusal.field) == ("lap_call_registered", "call_id")
    assert names(ledger.when(ledger.cmd(RegisterLapEngagement, call_id="lap-3")))


def test_the_payers_answer_on_a_claim_is_recorded_after_the_case_closed() -> None:
    case = signed()
    case.given(claim(case), case.cmd(CloseCase))
    assert names(case.when(case.cmd(RecordSubsidyClaimApproval, claim_id=CLAIM)))
    assert case.refused(claim(case, claim_id=uuid.uuid4(), period="2025-04")).code == (
        "case_closed"
    )
