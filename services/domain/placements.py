"""Placements (TWE/art. 60, art. 61, stage, IBO, regular, maatwerk): start, extension, MLP, end."""

from __future__ import annotations

from uuid import UUID

from events.base import DomainEvent
from events.envelope import EventMeta
from events.placements import (
    MlpMonthRegistered,
    PlacementEnded,
    PlacementExtended,
    PlacementStarted,
    PlacementType,
)
from services.commands.placements import (
    EndPlacement,
    ExtendPlacement,
    RecordMlpRegistration,
    StartPlacement,
)
from services.domain.activities import Extension, Placement
from services.domain.context import Context
from services.domain.errors import refuse, require
from services.domain.handlers import decides, event_from, evolves
from services.domain.marks import Mark
from services.domain.state import CaseState


def _trajectory_for(state: CaseState, named: UUID | None) -> UUID:
    """The running trajectory a placement belongs to: the one named, or the only one."""
    running = state.open_trajectories()
    if named is not None:
        require(
            named in running,
            "no_open_trajectory",
            f"trajectory {named} is not running; a placement belongs to a running trajectory",
            "trajectory_id",
        )
        return named
    require(
        bool(running),
        "no_open_trajectory",
        "start a trajectory first: a placement belongs to a running trajectory",
        "trajectory_id",
    )
    require(
        len(running) == 1,
        "trajectory_ambiguous",
        "several trajectories are running; name the one this placement belongs to",
        "trajectory_id",
    )
    return next(iter(running))


def running_placement(state: CaseState, placement_id: UUID) -> Placement:
    found = state.running_placements().get(placement_id)
    if found is None:
        refuse("placement_not_running", f"placement {placement_id} is not running", "placement_id")
    return found


@decides(StartPlacement)
def start(state: CaseState, command: StartPlacement, ctx: Context) -> list[DomainEvent]:
    require(
        command.placement_id not in state.placements,
        "placement_exists",
        f"placement {command.placement_id} was already started",
        "placement_id",
    )
    trajectory_id = _trajectory_for(state, command.trajectory_id)
    require(
        command.placed_with_kbo is None or command.agreement_signed_on is not None,
        "placement_agreement_missing",
        "placing the person with a user organisation needs a written agreement signed "
        "before the start (art. 60 §7)",
        "agreement_signed_on",
    )
    return [event_from(PlacementStarted, command, trajectory_id=trajectory_id)]


@decides(ExtendPlacement)
def extend(state: CaseState, command: ExtendPlacement, ctx: Context) -> list[DomainEvent]:
    placement = running_placement(state, command.placement_id)
    require(
        command.planned_end >= placement.starts_on,
        "ends_before_start",
        f"the placement started on {placement.starts_on}",
        "planned_end",
    )
    return [event_from(PlacementExtended, command)]


@decides(EndPlacement)
def end(state: CaseState, command: EndPlacement, ctx: Context) -> list[DomainEvent]:
    placement = running_placement(state, command.placement_id)
    require(
        command.occurred_on >= placement.starts_on,
        "ends_before_start",
        f"the placement started on {placement.starts_on}",
        "occurred_on",
    )
    return [event_from(PlacementEnded, command)]


@decides(RecordMlpRegistration)
def mlp(state: CaseState, command: RecordMlpRegistration, ctx: Context) -> list[DomainEvent]:
    placement = state.placements.get(command.placement_id)
    if placement is None:
        refuse("unknown_placement", f"no placement {command.placement_id}", "placement_id")
    require(
        placement.placement_type is PlacementType.TWE_ART60,
        "not_a_twe_placement",
        "only TWE/art. 60 placements are registered in VDAB's MLP",
        "placement_id",
    )
    return [event_from(MlpMonthRegistered, command)]


@evolves(PlacementStarted)
def started(state: CaseState, event: PlacementStarted, meta: EventMeta) -> CaseState:
    placement = Placement.of(
        meta,
        placement_type=event.placement_type,
        starts_on=event.starts_on,
        planned_end=event.planned_end,
        trajectory_id=event.trajectory_id,
    )
    return state.put("placements", event.placement_id, placement)


@evolves(PlacementExtended)
def extended(state: CaseState, event: PlacementExtended, meta: EventMeta) -> CaseState:
    found = state.placements.get(event.placement_id)
    if found is None:
        return state
    extensions = (*found.extensions, Extension.of(meta, until=event.planned_end))
    return state.change("placements", event.placement_id, extensions=extensions)


@evolves(PlacementEnded)
def ended(state: CaseState, event: PlacementEnded, meta: EventMeta) -> CaseState:
    return state.change("placements", event.placement_id, ended=Mark.of(meta))


@evolves(MlpMonthRegistered)
def mlp_registered(state: CaseState, event: MlpMonthRegistered, meta: EventMeta) -> CaseState:
    found = state.placements.get(event.placement_id)
    if found is None:
        return state
    months = (*found.mlp_months, Mark.of(meta))
    return state.change("placements", event.placement_id, mlp_months=months)
