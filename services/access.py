"""Who may do what: the commands each role may send, who sees personal data, whose cases.

The HTTP API checks the commands of a role (``may_send``) before it calls the application
service; the office a user belongs to is checked by the domain (another office's case does
not exist). ``check_case_access`` is the caseload rule on a loaded case (counsellors work on
the cases assigned to them); the HTTP API and the NATS entry pass it to
``Application.handle``/``read`` as ``authorize``. The roles follow domain.md section 4.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Final

from events.base import Role
from events.envelope import Actor
from services.commands import (
    COMMANDS,
    activation,
    aid,
    case,
    gpmi,
    guidance,
    outflow,
    placements,
    privacy,
    rights,
    sanctions,
    subsidies,
)
from services.domain import CaseState, Context
from services.domain.errors import refuse


def _area(*modules: ModuleType) -> frozenset[str]:
    """The names of the commands declared in ``modules``."""
    names = {m.__name__ for m in modules}
    return frozenset(name for name, cls in COMMANDS.items() if cls.__module__ in names)


def _known(names: Iterable[str]) -> frozenset[str]:
    unknown = set(names) - COMMANDS.keys()
    if unknown:
        raise ValueError(f"the access policy names unknown commands: {sorted(unknown)}")
    return frozenset(names)


TRAJECTORY: Final = _area(guidance, gpmi, activation, placements, outflow)
"""Intake, trajectories, the GPMI, activation steps, placements, aftercare and outflow."""

CASEWORK: Final = (
    _area(aid, case, rights, sanctions) | TRAJECTORY | _known({"RequestErasure", "DeferErasure"})
)
"""The whole file of a person, except the claims and the destruction of personal data."""

CLAIMS: Final = _area(subsidies) | _known({"RecordLeefloonPayment"})
"""Subsidy claims and their answers, LAP engagements, the payments of the leefloon."""

GROUP_PROJECTS: Final = _known(
    {"JoinGroupProject", "LeaveGroupProject", "RecordGroupProjectAttendance"}
)
ERASURE: Final = _area(privacy)
"""Erasure requests, deferrals and the destruction of a person's key."""

EVERYTHING: Final = frozenset(COMMANDS)

WRITES: Final[Mapping[Role, frozenset[str]]] = {
    Role.SOCIAL_WORKER: CASEWORK,
    Role.HEAD_OF_SERVICE: CASEWORK,
    Role.TRAJECTORY_COUNSELLOR: TRAJECTORY,
    Role.JOB_COACH: TRAJECTORY,
    Role.AFTERCARE_COUNSELLOR: TRAJECTORY,
    Role.GROUP_LEADER: GROUP_PROJECTS,
    Role.FINANCE: CLAIMS,
    Role.DPO: ERASURE,
    # An office's own system (import, integration) sends anything but the key destruction.
    Role.OFFICE_SYSTEM: EVERYTHING - {"ErasePersonData"},
    # The BCSD decides in session; its decisions are recorded by the social service.
    Role.BCSD: frozenset(),
    Role.INSPECTOR: frozenset(),
}

REVEALS: Final = frozenset(
    {
        Role.SOCIAL_WORKER,
        Role.HEAD_OF_SERVICE,
        Role.TRAJECTORY_COUNSELLOR,
        Role.JOB_COACH,
        Role.AFTERCARE_COUNSELLOR,
        Role.BCSD,
    }
)
"""Roles that read a case's personal fields (decrypted); every other role reads the case
without them."""


def may_send(role: Role, command_name: str) -> bool:
    """May a user with ``role`` send the command ``command_name`` (for their own office)?"""
    return command_name in WRITES.get(role, frozenset())


def may_reveal(role: Role) -> bool:
    """Does a user with ``role`` read personal fields in plaintext?"""
    return role in REVEALS


def senders(command_name: str) -> list[Role]:
    """The roles that may send ``command_name``, in the order of ``Role``."""
    return [role for role in Role if may_send(role, command_name)]


CASE_READERS: Final = frozenset(
    {
        Role.SOCIAL_WORKER,
        Role.HEAD_OF_SERVICE,
        Role.TRAJECTORY_COUNSELLOR,
        Role.JOB_COACH,
        Role.AFTERCARE_COUNSELLOR,
        Role.OFFICE_SYSTEM,
        Role.INSPECTOR,
    }
)
"""Who follows cases: the social service, the counsellors, the office's own systems, and the
inspectors (who check the GPMI terms)."""

READ_MODELS: Final[Mapping[str, frozenset[Role]]] = {
    "caseload": CASE_READERS,
    # Placements are what TWE, art. 60 and art. 61 claims rest on.
    "placements": CASE_READERS | {Role.FINANCE},
    "subsidy_history": frozenset(
        {Role.FINANCE, Role.HEAD_OF_SERVICE, Role.OFFICE_SYSTEM, Role.INSPECTOR}
    ),
}
"""The roles that read each read model of their office (none of them holds personal data;
``person_ref`` is pseudonymous). Group leaders, the DPO and the BCSD read none."""


def may_read(role: Role, read_model: str) -> bool:
    """May a user with ``role`` read the read model ``read_model`` of their own office?"""
    return role in READ_MODELS[read_model]


# --- Case assignment: counsellors work on their own caseload ---------------------------

CASELOAD: Final = frozenset(
    {
        Role.SOCIAL_WORKER,
        Role.TRAJECTORY_COUNSELLOR,
        Role.JOB_COACH,
        Role.AFTERCARE_COUNSELLOR,
    }
)
"""Roles bound to their caseload: they read (decrypted) and write only the cases they are
assigned to (``CounselorAssigned`` with their user id and role, not yet unassigned). The
head of service works office-wide (team view, deadlines) and assigns; the roles without
personal data (finance, group leader, DPO, inspector, BCSD, the office's own system) keep
their office-wide, command-limited access."""

ASSIGNING: Final = frozenset({"AssignCounselor", "UnassignCounselor"})

NOT_ASSIGNED: Final = "not_assigned"
ASSIGNMENT_FORBIDDEN: Final = "assignment_not_allowed"
FORBIDDEN_CODES: Final = frozenset({NOT_ASSIGNED, ASSIGNMENT_FORBIDDEN})
"""Refusal codes of the assignment policy: 403 over HTTP, not a rule of the case (409)."""


def is_assigned(state: CaseState, actor: Actor) -> bool:
    """Does ``actor`` hold a current assignment in the case, in their own role?"""
    return any(
        a.ended is None and a.counselor_user_id == actor.user_id and a.role.value == actor.role
        for a in state.counsellors
    )


def is_intake(state: CaseState, actor: Actor) -> bool:
    """Is ``actor`` the intake worker of a case that has never had a counsellor assigned?

    Whoever records a case's first event (the aid request at the counter) carries it until
    the first assignment; from then on only the assigned counsellors do.
    """
    return not state.counsellors and state.opened_by == actor


def check_case_access(state: CaseState, ctx: Context, command_name: str | None) -> None:
    """Refuse a caseload role on a case of its office that is not theirs.

    ``command_name`` is the command sent, or None for a read of the case. A case that does
    not exist yet (a new case) is open to every role that may send its first command; a case
    of another office must have been refused as not found before (``check_visible``).
    Assigning and unassigning counsellors is for the head of service, the office's system
    and the intake worker (who hands the new case over); never for a counsellor on a case
    already assigned.
    """
    actor = ctx.actor
    if not state.exists or actor.role not in CASELOAD:
        return
    if command_name in ASSIGNING:
        if not is_intake(state, actor):
            refuse(
                ASSIGNMENT_FORBIDDEN,
                "counsellors are assigned by the head of service (or by the intake worker "
                "before the first assignment)",
                "counselor_user_id",
            )
        return
    if not (is_assigned(state, actor) or is_intake(state, actor)):
        refuse(
            NOT_ASSIGNED,
            f"the case is not assigned to you as {actor.role.value}; "
            "the head of service assigns cases",
            "case_id",
        )
