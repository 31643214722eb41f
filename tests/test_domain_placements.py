"""Placements need a running trajectory; aftercare follows a placement; outflow ends what runs."""

from __future__ import annotations

import uuid
from datetime import date

from events.guidance import TrajectoryEnded, TrajectoryEndReason
from events.placements import AftercareStarted, PlacementEnded, PlacementEndReason, PlacementStarted
from services.commands.guidance import EndTrajectory, StartTrajectory
from services.commands.outflow import RecordOutflow
from services.commands.placements import (
    EndAftercare,
    EndPlacement,
    ExtendPlacement,
    RecordMlpRegistration,
    StartAftercare,
    StartPlacement,
)
from tests.support.domain import PLACEMENT, TRAJECTORY, Case, names

SECOND = uuid.UUID("5a2b7c1d-0000-4000-8000-000000000002")


def placement(case: Case, **fields: object) -> StartPlacement:
    body = {"placement_id": PLACEMENT, "trajectory_id": TRAJECTORY, "starts_on": date(2025, 3, 3)}
    body["agreement_signed_on"] = date(2025, 3, 1)
    body["planned_end"] = date(2025, 12, 31)
    return case.cmd(StartPlacement, **{**body, **fields})


def placed() -> Case:
    case = Case().in_trajectory()
    return case.given(placement(case))


def test_no_placement_without_an_open_trajectory() -> None:
    case = Case().granted()
    refusal = case.refused(placement(case))
    assert (refusal.code, refusal.field) == ("no_open_trajectory", "trajectory_id")
    assert case.refused(placement(case, trajectory_id=None)).code == "no_open_trajectory"
    case.given(case.cmd(StartTrajectory, trajectory_id=TRAJECTORY))
    assert names(case.when(placement(case))) == ["PlacementStarted"]


def test_no_placement_in_a_trajectory_that_ended() -> None:
    case = Case().in_trajectory()
    case.given(case.cmd(EndTrajectory, trajectory_id=TRAJECTORY))
    assert case.refused(placement(case)).code == "no_open_trajectory"


def test_a_placement_joins_the_only_running_trajectory_when_none_is_named() -> None:
    case = Case().in_trajectory()
    (started,) = case.when(placement(case, trajectory_id=None))
    assert isinstance(started, PlacementStarted)
    assert started.trajectory_id == TRAJECTORY
    case.given(case.cmd(StartTrajectory, trajectory_id=SECOND, kind="taal"))
    refusal = case.refused(placement(case, trajectory_id=None))
    assert (refusal.code, refusal.field) == ("trajectory_ambiguous", "trajectory_id")


def test_a_placement_with_a_user_organisation_needs_the_agreement_signed_before() -> None:
    case = Case().in_trajectory()
    refusal = case.refused(placement(case, agreement_signed_on=None))
    assert (refusal.code, refusal.field) == ("placement_agreement_missing", "agreement_signed_on")
    direct = placement(case, agreement_signed_on=None, placed_with_kbo=None)
    assert names(case.when(direct)) == ["PlacementStarted"]


def test_a_placement_id_is_started_once() -> None:
    case = placed()
    assert case.refused(placement(case)).code == "placement_exists"


def test_only_a_running_placement_is_extended_or_ended() -> None:
    case = placed()
    case.given(case.cmd(EndPlacement, placement_id=PLACEMENT, reason="completed"))
    extend = case.cmd(ExtendPlacement, placement_id=PLACEMENT, planned_end=date(2026, 3, 1))
    refusal = case.refused(extend)
    assert (refusal.code, refusal.field) == ("placement_not_running", "placement_id")
    again = case.cmd(EndPlacement, placement_id=PLACEMENT, reason="completed")
    assert case.refused(again).code == "placement_not_running"


def test_a_placement_does_not_end_before_it_starts() -> None:
    case = Case().in_trajectory()
    case.given(placement(case, starts_on=date(2025, 3, 10), agreement_signed_on=date(2025, 3, 1)))
    early = case.cmd(EndPlacement, placement_id=PLACEMENT, reason="completed")
    assert (case.refused(early).code, case.refused(early).field) == (
        "ends_before_start",
        "occurred_on",
    )
    shorter = case.cmd(ExtendPlacement, placement_id=PLACEMENT, planned_end=date(2025, 3, 9))
    assert case.refused(shorter).code == "ends_before_start"


def test_only_twe_placements_are_registered_in_mlp() -> None:
    case = Case().in_trajectory()
    case.given(placement(case, placement_type="art61"))
    refusal = case.refused(case.cmd(RecordMlpRegistration, placement_id=PLACEMENT))
    assert (refusal.code, refusal.field) == ("not_a_twe_placement", "placement_id")


def test_aftercare_only_after_a_placement() -> None:
    case = Case().in_trajectory()
    refusal = case.refused(case.cmd(StartAftercare, placement_id=None))
    assert (refusal.code, refusal.field) == ("aftercare_without_placement", "placement_id")
    assert case.refused(case.cmd(StartAftercare)).code == "aftercare_without_placement"
    case.given(placement(case, starts_on=date(2025, 3, 3)))
    before = case.cmd(StartAftercare, occurred_on=date(2025, 3, 2))
    assert case.refused(before).code == "aftercare_without_placement"
    assert names(case.when(case.cmd(StartAftercare))) == ["AftercareStarted"]


def test_aftercare_follows_the_latest_placement_when_none_is_named() -> None:
    case = placed()  # PLACEMENT started on 2025-03-03
    case.given(case.cmd(EndPlacement, placement_id=PLACEMENT, reason="completed"))
    later = {"starts_on": date(2025, 4, 1), "agreement_signed_on": date(2025, 3, 20)}
    case.given(placement(case, placement_id=SECOND, **later, occurred_on=date(2025, 3, 20)))
    for on, follows in ((date(2025, 5, 1), SECOND), (date(2025, 3, 15), PLACEMENT)):
        (started,) = case.when(case.cmd(StartAftercare, placement_id=None, occurred_on=on))
        assert isinstance(started, AftercareStarted)
        assert started.placement_id == follows


def test_only_running_aftercare_ends() -> None:
    case = placed()
    assert case.refused(case.cmd(EndAftercare)).code == "aftercare_not_running"


def outflow(case: Case, **fields: object) -> RecordOutflow:
    body = {"reason": "work", "outflow_on": date(2025, 6, 1), "placement_id": None}
    return case.cmd(RecordOutflow, **{**body, **fields})


def test_an_outflow_ends_the_open_trajectories_and_placements() -> None:
    case = placed()
    case.given(case.cmd(StartTrajectory, trajectory_id=SECOND, kind="taal"))
    events = case.when(outflow(case))
    assert names(events) == [
        "OutflowRecorded",
        "PlacementEnded",
        "TrajectoryEnded",
        "TrajectoryEnded",
    ]
    ended = [e for e in events if isinstance(e, TrajectoryEnded)]
    assert {e.trajectory_id for e in ended} == {TRAJECTORY, SECOND}
    assert {e.reason for e in ended} == {TrajectoryEndReason.OUTFLOW}
    case.given(outflow(case))
    assert case.state.open_trajectories() == {}
    assert case.state.running_placements() == {}


def test_an_outflow_to_work_from_a_placement_ends_it_as_hired() -> None:
    case = placed()
    (_, ended, _) = case.when(outflow(case, placement_id=PLACEMENT))
    assert isinstance(ended, PlacementEnded)
    assert ended.reason is PlacementEndReason.HIRED
    (_, other, _) = case.when(outflow(case, reason="moved"))
    assert isinstance(other, PlacementEnded)
    assert other.reason is PlacementEndReason.EARLY_STOP
    (_, done, _) = case.when(outflow(case, reason="moved", outflow_on=date(2026, 1, 1)))
    assert isinstance(done, PlacementEnded)
    assert done.reason is PlacementEndReason.COMPLETED


def test_an_outflow_leaves_a_granted_leefloon() -> None:
    case = Case().opened()
    assert case.refused(outflow(case)).code == "no_leefloon_granted"


def test_an_outflow_names_a_placement_of_the_case() -> None:
    case = placed()
    refusal = case.refused(outflow(case, placement_id=uuid.uuid4()))
    assert (refusal.code, refusal.field) == ("unknown_placement", "placement_id")
