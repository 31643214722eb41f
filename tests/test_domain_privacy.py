"""Personal data: one registered person per case, nothing new after erasure, erasure deferral."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from events.privacy import PersonDataErased
from services.commands.aid import ReceiveAidRequest, RegisterPerson, UpdatePersonDetails
from services.commands.case import CloseCase, RetractEvent
from services.commands.guidance import CompleteIntake, StartTrajectory
from services.commands.privacy import DeferErasure, ErasePersonData, RequestErasure
from services.commands.rights import SuspendLeefloon
from tests.support.domain import GRANT, Case, names


def erased() -> Case:
    case = Case().granted()
    case.given(case.cmd(RequestErasure))
    case.record(case.cmd(ErasePersonData), key_destroyed=True)
    return case


def test_no_new_personal_data_after_the_persons_data_were_erased() -> None:
    case = erased()
    refusal = case.refused(case.cmd(CompleteIntake))
    assert (refusal.code, refusal.field) == ("person_erased", "person_ref")
    assert case.refused(case.cmd(UpdatePersonDetails)).code == "person_erased"
    assert names(case.when(case.cmd(StartTrajectory))) == ["TrajectoryStarted"]


def test_after_erasure_facts_without_personal_data_are_still_recorded() -> None:
    case = erased()
    suspend = {"decision_id": uuid.uuid4(), "grant_decision_id": GRANT, "reason": "stay_abroad"}
    quiet = case.cmd(SuspendLeefloon, **suspend, sanction_decision_id=None, explanation=None)
    assert names(case.when(quiet)) == ["LeefloonSuspended"]
    noisy = case.cmd(SuspendLeefloon, **suspend, sanction_decision_id=None)
    assert case.refused(noisy).code == "person_erased"


def test_erasure_waits_while_it_is_deferred() -> None:
    case = Case().granted()
    case.given(case.cmd(RequestErasure), case.cmd(DeferErasure, retain_until=date(2026, 12, 31)))
    refusal = case.refused(case.cmd(ErasePersonData), key_destroyed=True)
    assert (refusal.code, refusal.field) == ("erasure_deferred", "person_ref")
    later = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    assert names(case.when(case.cmd(ErasePersonData), key_destroyed=True, now=later))


def test_an_erasure_is_deferred_only_when_it_was_requested() -> None:
    case = Case().granted()
    assert case.refused(case.cmd(DeferErasure)).code == "no_erasure_request"


def test_the_erasure_event_says_whether_a_key_was_destroyed() -> None:
    case = Case().granted()
    (event,) = case.when(case.cmd(ErasePersonData), key_destroyed=False)
    assert isinstance(event, PersonDataErased)
    assert event.key_destroyed is False
    refusal = case.refused(case.cmd(ErasePersonData))
    assert refusal.code == "erasure_not_performed"


def test_a_person_is_erased_once_and_the_erasure_is_never_retracted() -> None:
    case = erased()
    assert case.refused(case.cmd(ErasePersonData), key_destroyed=True).code == (
        "person_already_erased"
    )
    retract = case.cmd(RetractEvent, retracted_event_id=case.last_id("PersonDataErased"))
    assert case.refused(retract).code == "event_not_retractable"


def test_erasure_is_recorded_on_a_closed_case() -> None:
    case = Case().granted()
    case.given(case.cmd(CloseCase), case.cmd(RequestErasure))
    assert names(case.when(case.cmd(ErasePersonData), key_destroyed=True))


def test_personal_data_belong_to_the_registered_person() -> None:
    case = Case().granted()
    stranger = uuid.uuid4()
    refusal = case.refused(case.cmd(CompleteIntake, person_ref=stranger))
    assert (refusal.code, refusal.field) == ("person_mismatch", "person_ref")
    assert case.refused(case.cmd(RegisterPerson)).code == "person_already_registered"


def test_personal_data_wait_until_the_person_is_registered() -> None:
    case = Case()
    case.given(case.cmd(ReceiveAidRequest))
    refusal = case.refused(case.cmd(CompleteIntake))
    assert (refusal.code, refusal.field) == ("person_not_registered", "person_ref")
