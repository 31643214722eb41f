"""The whole lifecycle through decide and evolve; snapshots; retraction equals never recording."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest

from events.case import EventRetracted, RetractionReason
from events.catalogue import EVENTS
from events.codec import RecordedEvent
from events.envelope import EventMeta
from services.commands import COMMANDS
from services.commands.activation import (
    AbandonLanguageCourse,
    CompleteLanguageCourse,
    EndTraining,
    EnrolInLanguageCourse,
    JoinGroupProject,
    LeaveGroupProject,
    RecordGroupProjectAttendance,
    StartTraining,
)
from services.commands.aid import (
    CompleteSocialInquiry,
    ReceiveAidRequest,
    RegisterPerson,
    UpdatePersonDetails,
    WithdrawAidRequest,
)
from services.commands.case import CloseCase, ReopenCase, RetractEvent, TransferCase
from services.commands.gpmi import (
    AmendGpmi,
    EndGpmi,
    EvaluateGpmi,
    ExtendGpmi,
    MarkAgreementFulfilled,
    MarkAgreementMissed,
    SignGpmi,
)
from services.commands.guidance import (
    AssignCounselor,
    CompleteIntake,
    EndTrajectory,
    MakeReferral,
    RecordReferralOutcome,
    RecordVdabRegistration,
    StartTrajectory,
    UnassignCounselor,
)
from services.commands.outflow import RecordOutflow, VerifyEmployment
from services.commands.placements import (
    EndAftercare,
    EndPlacement,
    ExtendPlacement,
    RecordMlpRegistration,
    StartAftercare,
    StartPlacement,
)
from services.commands.privacy import DeferErasure, ErasePersonData, RequestErasure
from services.commands.rights import (
    EndLeefloon,
    GrantLeefloon,
    RecordAppeal,
    RecordAppealJudgment,
    RecordDecisionNotification,
    RecordLeefloonPayment,
    RefuseLeefloon,
    ResumeLeefloon,
    ReviseLeefloon,
    SuspendLeefloon,
)
from services.commands.sanctions import ImposeSanction, IssueWarning, RecordHearing
from services.commands.subsidies import (
    CorrectSubsidyClaim,
    RecordSubsidyClaimApproval,
    RecordSubsidyClaimRejection,
    RegisterLapEngagement,
    SubmitSubsidyClaim,
)
from services.domain import CaseFold, CaseState, evolve
from services.domain.handlers import DECIDERS, EVOLVERS
from tests.fixtures.examples import BY_NAME
from tests.support.domain import (
    AGREEMENT,
    CLAIM,
    GPMI,
    GRANT,
    OTHER_OFFICE,
    PLACEMENT,
    TRAJECTORY,
    Case,
    event_ref,
)

REFUSAL, SUSPENSION, REVISION, END, SANCTION = (uuid.uuid4() for _ in range(5))
ADDED, SECOND_TRAJECTORY, SECOND_PLACEMENT = (uuid.uuid4() for _ in range(3))
CORRECTED_CLAIM, TWE_CLAIM = uuid.uuid4(), uuid.uuid4()


def whole_trajectory() -> Case:
    """One person's case from request to erasure, using every command of a person's case."""
    case = Case()
    c = case.cmd
    case.given(
        c(ReceiveAidRequest),
        c(WithdrawAidRequest),
        c(ReceiveAidRequest),
        c(RegisterPerson),
        c(UpdatePersonDetails, address=BY_NAME["address"]),
        c(CompleteSocialInquiry),
        c(RefuseLeefloon, decision_id=REFUSAL),
        c(RecordAppeal, decision_id=REFUSAL),
        c(RecordAppealJudgment, decision_id=REFUSAL),
        c(ReceiveAidRequest),
        c(GrantLeefloon, decision_id=GRANT, effective_until=None),
        c(RecordDecisionNotification, decision_id=GRANT),
        c(ReviseLeefloon, decision_id=REVISION, grant_decision_id=GRANT),
        c(RecordLeefloonPayment, grant_decision_id=GRANT),
        c(RecordVdabRegistration),
        c(AssignCounselor),
        c(UnassignCounselor),
        c(CompleteIntake),
        c(StartTrajectory, trajectory_id=TRAJECTORY),
        c(MakeReferral, trajectory_id=TRAJECTORY),
        c(RecordReferralOutcome),
        c(SignGpmi, gpmi_id=GPMI),
    )
    added = [{"agreement_id": str(ADDED), "party": "client", "category": "language"}]
    case.given(
        c(AmendGpmi, added=added, agreement_texts={str(ADDED): "Taalles."}, withdrawn=[]),
        c(EvaluateGpmi, gpmi_id=GPMI),
        c(ExtendGpmi, gpmi_id=GPMI, extended_until=date(2026, 8, 31)),
        c(MarkAgreementFulfilled, gpmi_id=GPMI, agreement_id=ADDED),
        c(MarkAgreementMissed, gpmi_id=GPMI, agreement_id=AGREEMENT),
        c(IssueWarning),
        c(RecordHearing),
        c(ImposeSanction, decision_id=SANCTION, repeat=False),
        c(
            SuspendLeefloon,
            decision_id=SUSPENSION,
            grant_decision_id=GRANT,
            sanction_decision_id=SANCTION,
        ),
        c(ResumeLeefloon, grant_decision_id=GRANT),
        c(JoinGroupProject),
        c(RecordGroupProjectAttendance),
        c(LeaveGroupProject),
        c(EnrolInLanguageCourse),
        c(CompleteLanguageCourse),
        c(EnrolInLanguageCourse, course_id=uuid.uuid4()),
    )
    case.given(
        c(AbandonLanguageCourse, course_id=case.state.courses.popitem()[0])
        if False
        else c(AbandonLanguageCourse, course_id=list(case.state.courses)[-1]),
        c(StartTraining),
        c(EndTraining),
        c(StartPlacement, placement_id=PLACEMENT),
        c(RecordMlpRegistration, placement_id=PLACEMENT),
        c(ExtendPlacement, placement_id=PLACEMENT),
        c(EndPlacement, placement_id=PLACEMENT, reason="completed", hired_by_kbo=None),
        c(StartAftercare, placement_id=PLACEMENT),
        c(EndAftercare),
        c(EndTrajectory, trajectory_id=TRAJECTORY),
        c(StartTrajectory, trajectory_id=SECOND_TRAJECTORY),
        c(
            StartPlacement,
            placement_id=SECOND_PLACEMENT,
            trajectory_id=None,
            placement_type="regular",
        ),
        c(RecordOutflow, placement_id=SECOND_PLACEMENT),
        c(VerifyEmployment),
    )
    gpmi_signed = [event_ref(case.last_id("GpmiSigned"))]
    claim = {"decision_id": GRANT, "gpmi_id": GPMI, "placement_id": None, "evidence": gpmi_signed}
    case.given(
        c(SubmitSubsidyClaim, claim_id=CLAIM, **claim),
        c(CorrectSubsidyClaim, claim_id=CORRECTED_CLAIM, supersedes=CLAIM, **claim),
        c(RecordSubsidyClaimApproval, claim_id=CORRECTED_CLAIM),
        c(SubmitSubsidyClaim, claim_id=TWE_CLAIM, scheme="twe", **claim),
        c(RecordSubsidyClaimRejection, claim_id=TWE_CLAIM),
        c(EndGpmi, gpmi_id=GPMI),
        c(EndLeefloon, decision_id=END, grant_decision_id=GRANT),
        c(RetractEvent, retracted_event_id=case.last_id("EmploymentVerified")),
        c(TransferCase, to_office_id=OTHER_OFFICE),
    )
    case.office = OTHER_OFFICE
    case.given(c(RequestErasure), c(DeferErasure, retain_until=date(2025, 12, 31)), c(CloseCase))
    case.record(c(ErasePersonData), key_destroyed=True)
    return case.given(c(ReopenCase))


@pytest.fixture(scope="module")
def trajectory() -> Case:
    return whole_trajectory()


def test_every_command_is_decided_and_every_event_evolved() -> None:
    assert set(DECIDERS) == set(COMMANDS.values())
    assert set(EVOLVERS) == {cls.event_name for cls in EVENTS}


def test_a_whole_trajectory_uses_every_command(trajectory: Case) -> None:
    case = trajectory
    ledger = Case()
    ledger.given(ledger.cmd(RegisterLapEngagement))
    used = {type(c).command_name for c in case.commands + ledger.commands}
    assert used == set(COMMANDS)
    produced = {rec.name for rec in case.recorded + ledger.recorded}
    assert produced == {cls.event_name for cls in EVENTS}
    state = case.state
    assert state.office == OTHER_OFFICE
    assert state.erased
    assert not state.closed
    assert state.grants[GRANT].status == "ended"
    assert state.open_trajectories() == {}
    assert state.claims[CLAIM].superseded_by is not None


def test_a_snapshot_restores_the_same_state(trajectory: Case) -> None:
    fold = CaseFold()
    state = trajectory.state
    restored = fold.restore(json.loads(json.dumps(fold.dump(state))))
    assert restored == state
    assert fold.name.endswith("_v2")


def test_the_state_holds_no_personal_data(trajectory: Case) -> None:
    text = json.dumps(CaseFold().dump(trajectory.state))
    for value in ("85073003328", "Peeters", "Kerkstraat", "1985-07-30", "sollicitaties"):
        assert value not in text


def refold(events: list[RecordedEvent], case_id: uuid.UUID) -> CaseState:
    state = CaseState(case_id=case_id)
    for rec in events:
        state = evolve(state, rec)
    return state


def facts(state: CaseState) -> dict[str, Any]:
    """The state without its bookkeeping of event ids."""
    return state.model_dump(exclude={"events", "retracted", "superseded", "applied"})


def retraction(of: RecordedEvent, version: int) -> RecordedEvent:
    meta = EventMeta.model_validate(
        {**of.meta.model_dump(), "event_id": uuid.uuid4(), "causation_id": None, "corrects": None}
    )
    event = EventRetracted(
        retracted_event_id=of.meta.event_id, reason=RetractionReason.RECORDED_IN_ERROR
    )
    return RecordedEvent(meta, event, event.stored_type(), version, "", "", seq=version)


def test_retracting_an_event_leaves_the_state_as_if_it_was_never_recorded(
    trajectory: Case,
) -> None:
    events = [r for r in trajectory.recorded if r.name != "EventRetracted"]
    for target in events:
        retracted = refold([*events, retraction(target, len(events) + 1)], trajectory.case_id)
        never = refold([r for r in events if r is not target], trajectory.case_id)
        assert facts(retracted) == facts(never), f"retracting {target.name}"
