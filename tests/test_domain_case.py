"""Rules of the case file: owner office, closed cases, retractions, corrections, evidence."""

from __future__ import annotations

import uuid
from datetime import date

from events.guidance import TrajectoryKind
from services.commands.aid import ReceiveAidRequest, WithdrawAidRequest
from services.commands.case import CloseCase, ReopenCase, RetractEvent, TransferCase
from services.commands.guidance import StartTrajectory
from services.commands.placements import StartPlacement
from services.commands.subsidies import RegisterLapEngagement
from services.domain import CaseKind
from tests.support.domain import OTHER_OFFICE, TRAJECTORY, Case, event_ref, names


def test_a_case_of_another_office_does_not_exist() -> None:
    case = Case().opened()
    refusal = case.refused(case.cmd(StartTrajectory), office=OTHER_OFFICE)
    assert (refusal.code, refusal.field) == ("case_not_found", "case_id")
    assert refusal.message == f"case {case.case_id} does not exist"


def test_an_unknown_case_does_not_exist_until_an_aid_request_opens_it() -> None:
    case = Case()
    assert case.refused(case.cmd(StartTrajectory)).code == "case_not_found"
    assert names(case.when(case.cmd(ReceiveAidRequest))) == ["AidRequestReceived"]


def test_after_a_transfer_only_the_new_office_may_write() -> None:
    case = Case().opened()
    case.given(case.cmd(TransferCase, to_office_id=OTHER_OFFICE))
    assert case.state.office == OTHER_OFFICE
    assert case.refused(case.cmd(StartTrajectory)).code == "case_not_found"
    assert names(case.when(case.cmd(StartTrajectory), office=OTHER_OFFICE)) == ["TrajectoryStarted"]


def test_a_transfer_goes_to_another_office() -> None:
    case = Case().opened()
    refusal = case.refused(case.cmd(TransferCase, to_office_id=case.office))
    assert (refusal.code, refusal.field) == ("same_office", "to_office_id")


def test_no_writes_to_a_closed_case_except_reopen() -> None:
    case = Case().opened()
    case.given(case.cmd(CloseCase))
    refusal = case.refused(case.cmd(StartTrajectory))
    assert (refusal.code, refusal.field) == ("case_closed", "case_id")
    case.given(case.cmd(ReopenCase))
    assert names(case.when(case.cmd(StartTrajectory))) == ["TrajectoryStarted"]


def test_only_a_closed_case_is_reopened() -> None:
    case = Case().opened()
    assert case.refused(case.cmd(ReopenCase)).code == "case_not_closed"


def test_a_closing_recorded_in_error_is_retracted_and_the_case_is_open_again() -> None:
    case = Case().opened()
    case.given(case.cmd(CloseCase))
    case.given(case.cmd(RetractEvent, retracted_event_id=case.last_id("CaseClosed")))
    assert not case.state.closed
    assert names(case.when(case.cmd(StartTrajectory))) == ["TrajectoryStarted"]


def test_a_retraction_names_an_existing_event_of_the_case() -> None:
    case = Case().opened()
    other = Case().opened()
    refusal = case.refused(case.cmd(RetractEvent, retracted_event_id=other.last_id()))
    assert (refusal.code, refusal.field) == ("event_not_found", "retracted_event_id")


def test_an_event_is_not_retracted_twice() -> None:
    case = Case().opened()
    target = case.last_id("PersonRegistered")
    case.given(case.cmd(RetractEvent, retracted_event_id=target))
    refusal = case.refused(case.cmd(RetractEvent, retracted_event_id=target))
    assert (refusal.code, refusal.field) == ("event_already_retracted", "retracted_event_id")


def test_a_retraction_is_not_itself_retracted() -> None:
    case = Case().opened()
    case.given(case.cmd(RetractEvent, retracted_event_id=case.last_id("PersonRegistered")))
    refusal = case.refused(
        case.cmd(RetractEvent, retracted_event_id=case.last_id("EventRetracted"))
    )
    assert refusal.code == "event_not_retractable"


def test_a_retracted_event_no_longer_counts() -> None:
    case = Case().in_trajectory()
    case.given(case.cmd(RetractEvent, retracted_event_id=case.last_id("TrajectoryStarted")))
    assert case.state.trajectories == {}
    assert case.refused(case.cmd(StartPlacement)).code == "no_open_trajectory"


def test_a_correction_names_an_earlier_event_of_the_same_case() -> None:
    case = Case().in_trajectory()
    other = Case().in_trajectory()
    wrong = other.last_id("TrajectoryStarted")
    refusal = case.refused(case.cmd(StartTrajectory, corrects=wrong))
    assert (refusal.code, refusal.field) == ("correction_target_unknown", "corrects")


def test_a_correction_names_an_event_of_the_same_type() -> None:
    case = Case().in_trajectory()
    refusal = case.refused(case.cmd(StartTrajectory, corrects=case.last_id("AidRequestReceived")))
    assert (refusal.code, refusal.field) == ("correction_type_mismatch", "corrects")


def test_a_correction_replaces_the_event_it_corrects() -> None:
    case = Case().in_trajectory()
    original = case.last_id("TrajectoryStarted")
    fix = case.cmd(StartTrajectory, trajectory_id=TRAJECTORY, kind="taal", corrects=original)
    (event,) = case.record(fix)
    assert event.meta.corrects == original
    assert case.state.trajectories[TRAJECTORY].kind is TrajectoryKind.TAAL
    assert case.state.superseded == {original: event.meta.event_id}
    again = case.refused(case.cmd(StartTrajectory, corrects=original))
    assert again.code == "event_already_corrected"
    retract = case.refused(case.cmd(RetractEvent, retracted_event_id=original))
    assert retract.code == "event_already_corrected"


def test_a_retracted_event_is_not_corrected() -> None:
    case = Case().in_trajectory()
    original = case.last_id("TrajectoryStarted")
    case.given(case.cmd(RetractEvent, retracted_event_id=original))
    assert case.refused(case.cmd(StartTrajectory, corrects=original)).code == "event_retracted"


def test_evidence_events_belong_to_the_case() -> None:
    case = Case().opened()
    stranger = Case().opened().last_id()
    refusal = case.refused(case.cmd(StartTrajectory, evidence=[event_ref(stranger)]))
    assert (refusal.code, refusal.field) == ("unknown_evidence", "evidence")
    own = case.last_id("PersonRegistered")
    assert names(case.when(case.cmd(StartTrajectory, evidence=[event_ref(own)])))


def test_retracted_evidence_no_longer_supports_a_fact() -> None:
    case = Case().opened()
    target = case.last_id("PersonRegistered")
    case.given(case.cmd(RetractEvent, retracted_event_id=target))
    refusal = case.refused(case.cmd(StartTrajectory, evidence=[event_ref(target)]))
    assert refusal.code == "evidence_withdrawn"


def test_a_fact_is_not_recorded_before_it_happens() -> None:
    case = Case().opened()
    refusal = case.refused(case.cmd(StartTrajectory, occurred_on=date(2026, 6, 2)))
    assert (refusal.code, refusal.field) == ("occurred_in_future", "occurred_on")


def test_lap_engagements_go_on_a_ledger_case_and_nothing_else_does() -> None:
    ledger = Case()
    ledger.given(ledger.cmd(RegisterLapEngagement))
    assert ledger.state.kind is CaseKind.LEDGER
    assert ledger.refused(ledger.cmd(StartTrajectory)).code == "not_a_person_case"
    person = Case().opened()
    assert person.refused(person.cmd(RegisterLapEngagement)).code == "not_a_ledger_case"


def test_a_new_aid_request_waits_until_the_earlier_one_is_decided() -> None:
    case = Case().opened()
    assert case.refused(case.cmd(ReceiveAidRequest)).code == "aid_request_pending"
    case.given(case.cmd(WithdrawAidRequest))
    assert names(case.when(case.cmd(ReceiveAidRequest))) == ["AidRequestReceived"]


def test_only_a_pending_aid_request_is_withdrawn() -> None:
    case = Case().granted()
    assert case.refused(case.cmd(WithdrawAidRequest)).code == "no_pending_request"


def test_case_ids_are_never_reused_across_offices() -> None:
    case = Case(uuid.uuid4()).opened()
    refusal = case.refused(case.cmd(ReceiveAidRequest), office=OTHER_OFFICE)
    assert refusal.code == "case_not_found"
