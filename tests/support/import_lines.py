"""Import files for tests: valid case histories, one command a line, and line helpers."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson

from services.commands import Command, PersonalCommand
from services.commands.aid import ReceiveAidRequest, RegisterPerson
from services.commands.guidance import AssignCounselor, CompleteIntake, StartTrajectory
from services.commands.placements import RecordMlpRegistration, StartPlacement
from services.commands.rights import GrantLeefloon
from tests.support.domain import GRANT, PLACEMENT, TRAJECTORY, Case

ACTOR = {"user_id": "u-3001", "role": "social_worker"}
COMMANDS_PER_CASE = 10


def history(case: Case) -> list[Command]:
    """Ten commands of one case, each producing one event: intake to TWE months in MLP."""
    return [
        case.cmd(ReceiveAidRequest),
        case.cmd(RegisterPerson),
        case.cmd(GrantLeefloon, decision_id=GRANT, effective_until=None),
        case.cmd(AssignCounselor),
        case.cmd(CompleteIntake),
        case.cmd(StartTrajectory, trajectory_id=TRAJECTORY),
        case.cmd(StartPlacement, placement_id=PLACEMENT),
        *(
            case.cmd(RecordMlpRegistration, placement_id=PLACEMENT, month=f"2025-0{m}")
            for m in (3, 4, 5)
        ),
    ]


def line(command: Command, **extra: Any) -> bytes:
    body = {"command": command.command_name, "body": command.model_dump(mode="json")}
    return orjson.dumps({**body, "actor": ACTOR, **extra})


def histories(cases: int, *, interleaved: bool = True) -> list[Command]:
    """``cases`` histories (fresh ids, one person each); interleaved, as an export would mix
    many cases."""
    template = history(Case())
    per_case = [_copy(template) for _ in range(cases)]
    if not interleaved:
        return [c for h in per_case for c in h]
    return [h[i] for i in range(COMMANDS_PER_CASE) for h in per_case]


def _copy(template: list[Command]) -> list[Command]:
    case, person = uuid.uuid4(), uuid.uuid4()
    return [
        c.model_copy(
            update={"command_id": uuid.uuid4(), "case_id": case}
            | ({"person_ref": person} if isinstance(c, PersonalCommand) else {})
        )
        for c in template
    ]


def write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(raw + b"\n" for raw in lines))
    return path
