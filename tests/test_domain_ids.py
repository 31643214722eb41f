"""An id chosen by the client names one thing: starting it again with that id is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.commands import Command
from services.commands.gpmi import EndGpmi, SignGpmi
from services.commands.guidance import MakeReferral
from services.commands.placements import StartAftercare, StartPlacement
from services.commands.sanctions import IssueWarning, RecordHearing
from services.commands.subsidies import SubmitSubsidyClaim
from tests.support.domain import GPMI, GRANT, Case, event_ref


def claim(case: Case, period: str) -> SubmitSubsidyClaim:
    evidence = [event_ref(case.last_id("GpmiSigned"))]
    refs = {"decision_id": GRANT, "gpmi_id": GPMI, "placement_id": None}
    return case.cmd(SubmitSubsidyClaim, period=period, evidence=evidence, **refs)


SECOND_TIME: list[tuple[str, Callable[[Case], list[Command]], str]] = [
    ("gpmi", lambda c: [c.cmd(EndGpmi, gpmi_id=GPMI), c.cmd(SignGpmi, gpmi_id=GPMI)], "gpmi_id"),
    ("warning", lambda c: [c.cmd(IssueWarning), c.cmd(IssueWarning)], "warning_id"),
    (
        "hearing",
        lambda c: [c.cmd(RecordHearing, warning_id=None), c.cmd(RecordHearing, warning_id=None)],
        "hearing_id",
    ),
    ("referral", lambda c: [c.cmd(MakeReferral), c.cmd(MakeReferral)], "referral_id"),
    ("claim", lambda c: [claim(c, "2025-03"), claim(c, "2025-04")], "claim_id"),
    (
        "aftercare",
        lambda c: [c.cmd(StartPlacement), c.cmd(StartAftercare), c.cmd(StartAftercare)],
        "aftercare_id",
    ),
]


@pytest.mark.parametrize(
    ("thing", "commands", "field"), SECOND_TIME, ids=[t[0] for t in SECOND_TIME]
)
def test_an_id_names_one_thing(
    thing: str, commands: Callable[[Case], list[Command]], field: str
) -> None:
    case = Case().with_gpmi()
    *first, again = commands(case)
    case.given(*first)
    refusal = case.refused(again)
    assert (refusal.code, refusal.field) == (f"{thing}_exists", field)
