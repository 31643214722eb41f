"""Outflow from the leefloon (ending what still runs) and employment checks afterwards."""

from __future__ import annotations

from typing import Final

from events.base import DomainEvent
from events.envelope import EventMeta
from events.guidance import TrajectoryEnded, TrajectoryEndReason
from events.outflow import EmploymentVerified, OutflowReason, OutflowRecorded
from events.placements import PlacementEnded, PlacementEndReason
from services.commands.outflow import RecordOutflow, VerifyEmployment
from services.domain.activities import Outflow, Placement
from services.domain.context import Context
from services.domain.errors import require
from services.domain.handlers import decides, event_from, evolves
from services.domain.marks import Mark
from services.domain.state import CaseState

TO_WORK: Final = frozenset({OutflowReason.WORK, OutflowReason.MAATWERK})


def _end_reason(
    command: RecordOutflow, placement_id: object, placement: Placement
) -> PlacementEndReason:
    """Why an outflow ends a running placement."""
    if placement_id == command.placement_id and command.reason in TO_WORK:
        return PlacementEndReason.HIRED
    planned = placement.current_planned_end
    if planned is not None and planned < command.outflow_on:
        return PlacementEndReason.COMPLETED
    return PlacementEndReason.EARLY_STOP


@decides(RecordOutflow)
def outflow(state: CaseState, command: RecordOutflow, ctx: Context) -> list[DomainEvent]:
    """The outflow, then the end of every running placement and open trajectory."""
    require(
        bool(state.grants),
        "no_leefloon_granted",
        "an outflow leaves the leefloon, and none was granted in this case",
    )
    require(
        command.placement_id is None or command.placement_id in state.placements,
        "unknown_placement",
        f"no placement {command.placement_id} in this case",
        "placement_id",
    )
    events: list[DomainEvent] = [event_from(OutflowRecorded, command)]
    events.extend(
        PlacementEnded(placement_id=pid, reason=_end_reason(command, pid, placement))
        for pid, placement in state.running_placements().items()
    )
    events.extend(
        TrajectoryEnded(trajectory_id=tid, reason=TrajectoryEndReason.OUTFLOW)
        for tid in state.open_trajectories()
    )
    return events


@decides(VerifyEmployment)
def verify(state: CaseState, command: VerifyEmployment, ctx: Context) -> list[DomainEvent]:
    return [event_from(EmploymentVerified, command)]


@evolves(OutflowRecorded)
def recorded(state: CaseState, event: OutflowRecorded, meta: EventMeta) -> CaseState:
    return state.add("outflows", Outflow.of(meta, reason=event.reason, outflow_on=event.outflow_on))


@evolves(EmploymentVerified)
def verified(state: CaseState, event: EmploymentVerified, meta: EventMeta) -> CaseState:
    return state.add("employment_checks", Mark.of(meta))
