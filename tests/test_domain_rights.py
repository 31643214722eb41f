"""The leefloon right: transitions only while granted, decisions, appeals, reported deadlines."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

import pytest

from services.commands import Command
from services.commands.gpmi import SignGpmi
from services.commands.rights import (
    EndLeefloon,
    GrantLeefloon,
    RecordAppeal,
    RecordAppealJudgment,
    RecordDecisionNotification,
    RecordLeefloonPayment,
    RefuseLeefloon,
    ResumeLeefloon,
    ReviseLeefloon,
    SuspendLeefloon,
)
from services.commands.sanctions import ImposeSanction
from services.domain import DeadlineKind, DeadlineStatus
from services.domain.records import GrantStatus
from tests.support.domain import GRANT, Case, names


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def suspend(case: Case, **fields: object) -> SuspendLeefloon:
    body = {"decision_id": new_id(), "grant_decision_id": GRANT, "reason": "stay_abroad"}
    body["sanction_decision_id"] = None
    return case.cmd(SuspendLeefloon, **{**body, **fields})


def end(case: Case) -> EndLeefloon:
    return case.cmd(
        EndLeefloon, decision_id=new_id(), grant_decision_id=GRANT, end_date=date(2025, 9, 30)
    )


def revise(case: Case) -> ReviseLeefloon:
    return case.cmd(ReviseLeefloon, decision_id=new_id(), grant_decision_id=GRANT)


def test_leefloon_is_suspended_only_while_granted() -> None:
    case = Case().opened()
    refusal = case.refused(suspend(case))
    assert (refusal.code, refusal.field) == ("leefloon_not_granted", "grant_decision_id")
    case.given(case.cmd(GrantLeefloon, decision_id=GRANT, effective_until=None))
    case.given(suspend(case))
    assert case.state.grants[GRANT].status is GrantStatus.SUSPENDED
    assert case.refused(suspend(case)).code == "leefloon_already_suspended"


def test_leefloon_is_resumed_only_while_suspended() -> None:
    case = Case().granted()
    resume = case.cmd(ResumeLeefloon, grant_decision_id=GRANT)
    assert case.refused(resume).code == "leefloon_not_suspended"
    case.given(suspend(case))
    assert names(case.when(resume)) == ["LeefloonResumed"]


@pytest.mark.parametrize("command", [suspend, end, revise])
def test_leefloon_is_suspended_revised_or_ended_only_while_granted(
    command: Callable[[Case], Command],
) -> None:
    case = Case().granted()
    case.given(end(case))
    refusal = case.refused(command(case))
    assert (refusal.code, refusal.field) == ("leefloon_not_granted", "grant_decision_id")


def test_a_suspended_leefloon_can_still_be_revised_or_ended() -> None:
    case = Case().granted()
    case.given(suspend(case))
    assert names(case.when(revise(case))) == ["LeefloonRevised"]
    assert names(case.when(end(case))) == ["LeefloonEnded"]


def test_a_leefloon_cannot_end_before_it_started() -> None:
    case = Case().granted(effective_from=date(2025, 3, 1))
    early = case.cmd(
        EndLeefloon, decision_id=new_id(), grant_decision_id=GRANT, end_date=date(2025, 2, 1)
    )
    assert case.refused(early).code == "ends_before_start"


def test_a_suspension_as_sanction_names_an_imposed_sanction() -> None:
    case = Case().granted()
    sanction = suspend(case, reason="sanction", sanction_decision_id=new_id())
    refusal = case.refused(sanction)
    assert (refusal.code, refusal.field) == ("unknown_sanction", "sanction_decision_id")
    fraud = new_id()
    fields = {"basis": "fraud", "repeat": False, "hearing_id": None, "warning_id": None}
    case.given(case.cmd(ImposeSanction, decision_id=fraud, **fields))
    assert names(case.when(suspend(case, reason="sanction", sanction_decision_id=fraud)))


def test_a_decision_id_names_one_decision() -> None:
    case = Case().granted()
    refusal = case.refused(case.cmd(RefuseLeefloon, decision_id=GRANT))
    assert (refusal.code, refusal.field) == ("decision_exists", "decision_id")


def test_a_second_leefloon_does_not_overlap_a_running_one() -> None:
    case = Case().granted()
    later = {"effective_from": date(2025, 6, 1), "effective_until": None}
    second = case.cmd(GrantLeefloon, decision_id=new_id(), **later)
    refusal = case.refused(second)
    assert (refusal.code, refusal.field) == ("leefloon_already_granted", "effective_from")
    case.given(end(case))
    assert names(case.when(second)) == ["LeefloonGranted"]


def test_a_notification_names_a_decision_of_the_case() -> None:
    case = Case().granted()
    refusal = case.refused(case.cmd(RecordDecisionNotification, decision_id=new_id()))
    assert (refusal.code, refusal.field) == ("unknown_decision", "decision_id")
    assert names(case.when(case.cmd(RecordDecisionNotification, decision_id=GRANT)))


def test_an_appeal_is_judged_once_it_was_lodged() -> None:
    case = Case().granted()
    judgment = case.cmd(RecordAppealJudgment, decision_id=GRANT)
    assert case.refused(judgment).code == "no_pending_appeal"
    case.given(case.cmd(RecordAppeal, decision_id=GRANT))
    assert case.refused(case.cmd(RecordAppeal, decision_id=GRANT)).code == "appeal_pending"
    assert names(case.when(judgment)) == ["AppealDecided"]


def test_a_payment_names_a_granted_leefloon() -> None:
    case = Case().opened()
    refusal = case.refused(case.cmd(RecordLeefloonPayment, grant_decision_id=GRANT))
    assert (refusal.code, refusal.field) == ("unknown_grant", "grant_decision_id")


def test_deadline_gpmi_signed_within_3_months_of_the_grant_is_reported_not_enforced() -> None:
    case = Case().granted(bcsd_session_on=date(2025, 3, 3))
    (pending,) = [d for d in case.state.deadlines(date(2025, 6, 3)) if d.kind == "gpmi_signed"]
    assert (pending.due_on, pending.status) == (date(2025, 6, 3), DeadlineStatus.PENDING)
    (late,) = [d for d in case.state.deadlines(date(2025, 6, 4)) if d.kind == "gpmi_signed"]
    assert late.overdue
    case.given(case.cmd(SignGpmi, occurred_on=date(2025, 7, 1), trajectory_id=None))
    (met,) = [d for d in case.state.deadlines(date(2025, 7, 2)) if d.kind == "gpmi_signed"]
    assert (met.met_on, met.status) == (date(2025, 7, 1), DeadlineStatus.MET_LATE)


def test_deadline_gpmi_not_reported_when_exempt() -> None:
    case = Case().granted(gpmi_required=False, gpmi_exemption="health_or_equity")
    kinds = {d.kind for d in case.state.deadlines(date(2026, 1, 1))}
    assert DeadlineKind.GPMI_SIGNED not in kinds


def test_deadline_decision_notified_within_8_days_is_reported() -> None:
    case = Case().granted()
    (due,) = [d for d in case.state.deadlines(date(2025, 3, 20)) if d.kind == "decision_notified"]
    assert (due.subject_id, due.due_on, due.status) == (GRANT, date(2025, 3, 11), "overdue")
    case.given(
        case.cmd(RecordDecisionNotification, decision_id=GRANT, occurred_on=date(2025, 3, 10))
    )
    (met,) = [d for d in case.state.deadlines(date(2025, 3, 20)) if d.kind == "decision_notified"]
    assert met.status is DeadlineStatus.MET
