"""The activation part of a demo case: trajectory, GPMI, courses, projects, placement, aftercare."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from events.base import Role
from services.commands.activation import (
    AbandonLanguageCourse,
    CompleteLanguageCourse,
    EnrolInLanguageCourse,
    JoinGroupProject,
    LeaveGroupProject,
    RecordGroupProjectAttendance,
)
from services.commands.guidance import (
    AssignCounselor,
    EndTrajectory,
    MakeReferral,
    RecordReferralOutcome,
    StartTrajectory,
)
from services.demo.cases import CaseWriter, weighted
from services.demo.gpmi import follow_up, sign
from services.demo.leaving import OUTFLOW_REASONS
from services.demo.placements import place
from services.demo.story import days, month_end, months
from services.domain.deadlines import add_months


def activate(w: CaseWriter) -> tuple[UUID | None, str | None]:
    """Write the activation; plan the outflow. Returns the placement and employer, if any."""
    rng, s, p = w.rng, w.story, w.profile
    w.intake(w.session + days(rng.randint(7, 21)))
    kind = "taal" if w.newcomer else "werk"
    if rng.random() < p.social_activation_share:
        kind = "sociale_activering"
    now = w.session + days(rng.randint(22, 30))
    trajectory = _trajectory(w, "1", kind, now)
    counsellor = w.actor(Role(p.counsellor_role))
    s.add(
        "counsellor/trajectory",
        AssignCounselor,
        now,
        counsellor,
        role=p.counsellor_role,
        counselor_user_id=counsellor.user_id,
        assigned_from=now,
    )
    gpmi = sign(w, kind, trajectory, now + days(rng.randint(7, 60))) if w.gpmi_required else None
    if kind == "taal":
        now = _language(w, now)
        if rng.random() < 0.6:
            s.add(
                "trajectory/1/end",
                EndTrajectory,
                now,
                counsellor,
                trajectory_id=trajectory,
                reason="switched_kind",
            )
            trajectory, kind = _trajectory(w, "2", "werk", now), "werk"
    if kind == "sociale_activering":
        now = _referral(w, trajectory, now + days(rng.randint(5, 30)))
    if p.group_projects and rng.random() < (0.8 if kind == "sociale_activering" else 0.4):
        now = _group_project(w, now + days(rng.randint(7, 30)))
    placement, employer = None, None
    if kind == "werk" and rng.random() < p.placement_share:
        placement, employer = place(w, trajectory, now + days(rng.randint(14, 60)))
    elif rng.random() < 0.5:
        w.outflow_on = s.last_on() + days(rng.randint(30, 240))
        w.outflow_reason = weighted(rng, OUTFLOW_REASONS)
    if gpmi is not None:
        follow_up(w, *gpmi)
    return placement, employer


def _trajectory(w: CaseWriter, key: str, kind: str, on: date) -> UUID:
    trajectory = w.story.id(f"trajectory/{key}")
    w.story.add(
        f"trajectory/{key}",
        StartTrajectory,
        on,
        w.actor(Role(w.profile.counsellor_role)),
        trajectory_id=trajectory,
        kind=kind,
    )
    return trajectory


def _language(w: CaseWriter, on: date) -> date:
    rng, s = w.rng, w.story
    course, starts = s.id("course/1"), on + days(rng.randint(7, 21))
    planned_end = starts + days(150)
    provider = rng.choice(["snt", "ligo", "cvo"])
    s.add(
        "course/1",
        EnrolInLanguageCourse,
        on,
        w.actor(Role.SOCIAL_WORKER),
        course_id=course,
        provider=provider,
        target_level="a2",
        hours_per_week="9",
        starts_on=starts,
        planned_end=planned_end,
    )
    if rng.random() < 0.15:
        s.add(
            "course/1/end",
            AbandonLanguageCourse,
            starts + days(60),
            w.actor(Role.SOCIAL_WORKER),
            course_id=course,
            reason="personal_circumstances",
        )
        return starts + days(60)
    s.add(
        "course/1/end",
        CompleteLanguageCourse,
        planned_end,
        w.actor(Role.SOCIAL_WORKER),
        course_id=course,
        level_reached="a2",
        certificate=rng.random() < 0.85,
    )
    return planned_end + days(7)


def _referral(w: CaseWriter, trajectory: UUID, on: date) -> date:
    referral = w.story.id("referral/1")
    target = weighted(
        w.rng, (("caw", 3), ("debt_counselling", 2), ("gtb_icf", 1), ("esf_group_trajectory", 1))
    )
    w.story.add(
        "referral/1",
        MakeReferral,
        on,
        w.actor(Role.SOCIAL_WORKER),
        referral_id=referral,
        target=target,
        trajectory_id=trajectory,
    )
    outcome = weighted(w.rng, (("started", 4), ("no_show", 1)))
    w.story.add(
        "referral/1/outcome",
        RecordReferralOutcome,
        on + days(21),
        w.actor(Role.SOCIAL_WORKER),
        referral_id=referral,
        outcome=outcome,
    )
    return on + days(21)


def _group_project(w: CaseWriter, on: date) -> date:
    rng, s, leader = w.rng, w.story, w.actor(Role.GROUP_LEADER)
    project = rng.choice(w.profile.group_projects)
    s.add("group", JoinGroupProject, on, leader, project=project, hours_per_week="8")
    taken = list(months(add_months(on, 1), add_months(on, rng.randint(1, 3))))
    for month in taken:
        planned = 8
        attended = rng.randint(5, planned)
        s.add(
            f"group/{month:%Y-%m}",
            RecordGroupProjectAttendance,
            month_end(month),
            leader,
            project=project,
            month=f"{month:%Y-%m}",
            sessions_attended=attended,
            sessions_planned=planned,
            hours_attended=str(attended * 4),
        )
    left = month_end(taken[-1]) + days(1)
    s.add("group/left", LeaveGroupProject, left, leader, project=project, reason="completed")
    return left
