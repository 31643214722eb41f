"""Guidance and activation steps: each thing starts once and ends once."""

from __future__ import annotations

import uuid

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
from services.commands.guidance import (
    AssignCounselor,
    EndTrajectory,
    MakeReferral,
    RecordReferralOutcome,
    StartTrajectory,
    UnassignCounselor,
)
from tests.support.domain import TRAJECTORY, Case, names


def test_a_group_project_is_joined_once_and_left_once() -> None:
    case = Case().granted()
    leave = case.cmd(LeaveGroupProject, project="de-moestuin")
    assert case.refused(leave).code == "not_in_group_project"
    case.given(case.cmd(JoinGroupProject, project="de-moestuin"))
    refusal = case.refused(case.cmd(JoinGroupProject, project="de-moestuin"))
    assert (refusal.code, refusal.field) == ("already_in_group_project", "project")
    case.given(leave)
    assert case.refused(leave).code == "not_in_group_project"
    assert names(case.when(case.cmd(JoinGroupProject, project="de-moestuin")))


def test_attendance_is_recorded_for_a_project_the_person_joined() -> None:
    case = Case().granted()
    attendance = case.cmd(RecordGroupProjectAttendance, project="de-busters")
    assert case.refused(attendance).code == "not_in_group_project"
    case.given(case.cmd(JoinGroupProject, project="de-busters"))
    assert names(case.when(attendance)) == ["GroupProjectAttendanceRecorded"]


def test_a_language_course_finishes_once() -> None:
    case = Case().granted()
    course = uuid.uuid4()
    complete = case.cmd(CompleteLanguageCourse, course_id=course)
    assert case.refused(complete).code == "course_not_running"
    case.given(case.cmd(EnrolInLanguageCourse, course_id=course), complete)
    refusal = case.refused(case.cmd(AbandonLanguageCourse, course_id=course))
    assert (refusal.code, refusal.field) == ("course_not_running", "course_id")
    assert case.refused(case.cmd(EnrolInLanguageCourse, course_id=course)).code == "course_exists"


def test_a_training_ends_once() -> None:
    case = Case().granted()
    training = uuid.uuid4()
    case.given(case.cmd(StartTraining, training_id=training))
    assert case.refused(case.cmd(StartTraining, training_id=training)).code == "training_exists"
    case.given(case.cmd(EndTraining, training_id=training))
    assert case.refused(case.cmd(EndTraining, training_id=training)).code == "training_not_running"


def test_a_trajectory_starts_once_and_ends_once() -> None:
    case = Case().in_trajectory()
    again = case.cmd(StartTrajectory, trajectory_id=TRAJECTORY)
    assert case.refused(again).code == "trajectory_exists"
    case.given(case.cmd(EndTrajectory, trajectory_id=TRAJECTORY))
    refusal = case.refused(case.cmd(EndTrajectory, trajectory_id=TRAJECTORY))
    assert (refusal.code, refusal.field) == ("trajectory_not_open", "trajectory_id")


def test_a_counsellor_holds_a_role_once_until_unassigned() -> None:
    case = Case().granted()
    unassign = case.cmd(UnassignCounselor, role="job_coach", counselor_user_id="u-7")
    assert case.refused(unassign).code == "counselor_not_assigned"
    assign = case.cmd(AssignCounselor, role="job_coach", counselor_user_id="u-7")
    case.given(assign)
    assert case.refused(assign).code == "counselor_already_assigned"
    case.given(unassign)
    assert names(case.when(assign)) == ["CounselorAssigned"]


def test_a_referral_names_a_trajectory_and_its_outcome_names_the_referral() -> None:
    case = Case().granted()
    refusal = case.refused(case.cmd(MakeReferral, trajectory_id=uuid.uuid4()))
    assert (refusal.code, refusal.field) == ("unknown_trajectory", "trajectory_id")
    outcome = case.cmd(RecordReferralOutcome, referral_id=uuid.uuid4())
    assert case.refused(outcome).code == "unknown_referral"
