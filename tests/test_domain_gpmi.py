"""The GPMI: evaluation and amendment only on a signed GPMI, extension, reported evaluations."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

import pytest

from services.commands import Command
from services.commands.gpmi import (
    AmendGpmi,
    EndGpmi,
    EvaluateGpmi,
    ExtendGpmi,
    MarkAgreementFulfilled,
    MarkAgreementMissed,
    SignGpmi,
)
from services.domain import Deadline, DeadlineKind, DeadlineStatus
from tests.support.domain import AGREEMENT, GPMI, Case, names

Build = Callable[[Case], Command]
NEW_AGREEMENT = uuid.UUID("5a2b7c1d-0000-4000-8000-000000000001")


def evaluate(case: Case, on: date = date(2025, 4, 1), *, in_person: bool = True) -> EvaluateGpmi:
    return case.cmd(EvaluateGpmi, gpmi_id=GPMI, occurred_on=on, in_person=in_person)


def amend(case: Case, **fields: object) -> AmendGpmi:
    added = [{"agreement_id": str(NEW_AGREEMENT), "party": "client", "category": "language"}]
    body = {"gpmi_id": GPMI, "added": added, "withdrawn": []}
    body["agreement_texts"] = {str(NEW_AGREEMENT): "Twee keer per week naar de taalles."}
    return case.cmd(AmendGpmi, **{**body, **fields})


@pytest.mark.parametrize("build", [evaluate, amend])
def test_gpmi_evaluation_and_amendment_only_on_a_signed_gpmi(build: Build) -> None:
    case = Case().in_trajectory()
    refusal = case.refused(build(case))
    assert (refusal.code, refusal.field) == ("gpmi_not_signed", "gpmi_id")
    case.given(case.cmd(SignGpmi, gpmi_id=GPMI))
    assert case.when(build(case))


@pytest.mark.parametrize("build", [evaluate, amend])
def test_gpmi_evaluation_and_amendment_not_after_the_gpmi_ended(build: Build) -> None:
    case = Case().with_gpmi()
    case.given(case.cmd(EndGpmi, gpmi_id=GPMI))
    refusal = case.refused(build(case))
    assert (refusal.code, refusal.field) == ("gpmi_ended", "gpmi_id")


def test_an_amendment_changes_or_withdraws_current_agreements_only() -> None:
    case = Case().with_gpmi()
    unknown = amend(case, added=[], agreement_texts={}, withdrawn=[uuid.uuid4()])
    assert (case.refused(unknown).code, case.refused(unknown).field) == (
        "unknown_agreement",
        "withdrawn",
    )
    twice = amend(
        case,
        added=[{"agreement_id": str(AGREEMENT), "party": "ocmw", "category": "other"}],
        agreement_texts={str(AGREEMENT): "Opnieuw."},
    )
    assert case.refused(twice).code == "agreement_exists"
    case.given(amend(case, added=[], agreement_texts={}, withdrawn=[AGREEMENT]))
    missed = case.cmd(MarkAgreementMissed, gpmi_id=GPMI, agreement_id=AGREEMENT)
    assert case.refused(missed).code == "unknown_agreement"


def test_one_gpmi_runs_at_a_time() -> None:
    case = Case().with_gpmi()
    refusal = case.refused(case.cmd(SignGpmi, gpmi_id=uuid.uuid4()))
    assert refusal.code == "gpmi_already_running"
    case.given(case.cmd(EndGpmi, gpmi_id=GPMI))
    assert names(case.when(case.cmd(SignGpmi, gpmi_id=uuid.uuid4()))) == ["GpmiSigned"]


def test_a_gpmi_extension_reaches_beyond_the_12_month_subsidy() -> None:
    case = Case().with_gpmi()  # signed 2025-03-03: the subsidy runs until 2026-02-28
    short = case.cmd(ExtendGpmi, gpmi_id=GPMI, extended_until=date(2026, 2, 28))
    refusal = case.refused(short)
    assert (refusal.code, refusal.field) == ("extension_not_later", "extended_until")
    assert names(case.when(case.cmd(ExtendGpmi, gpmi_id=GPMI, extended_until=date(2026, 3, 1))))


def test_an_evaluation_does_not_precede_the_signing() -> None:
    case = Case().with_gpmi()
    assert case.refused(evaluate(case, date(2025, 3, 2))).code == "evaluation_before_signing"


@pytest.mark.parametrize("command", [MarkAgreementFulfilled, MarkAgreementMissed])
def test_an_agreement_outcome_names_an_agreement_of_the_gpmi(command: type[Command]) -> None:
    case = Case().with_gpmi()
    refusal = case.refused(case.cmd(command, gpmi_id=GPMI, agreement_id=uuid.uuid4()))
    assert (refusal.code, refusal.field) == ("unknown_agreement", "agreement_id")
    assert case.when(case.cmd(command, gpmi_id=GPMI, agreement_id=AGREEMENT))


def evaluations(case: Case, as_of: date) -> list[Deadline]:
    return [d for d in case.state.deadlines(as_of) if d.kind is DeadlineKind.GPMI_EVALUATIONS]


def test_deadline_3_evaluations_a_year_2_in_person_is_reported_not_enforced() -> None:
    case = Case().with_gpmi()  # signed 2025-03-03: year 1 runs until 2026-03-02
    case.given(
        evaluate(case, date(2025, 6, 1), in_person=True),
        evaluate(case, date(2025, 9, 1), in_person=False),
        evaluate(case, date(2025, 12, 1), in_person=False),
    )
    (year,) = evaluations(case, date(2026, 3, 2))
    assert (year.due_on, year.status) == (date(2026, 3, 2), DeadlineStatus.PENDING)
    assert year.detail == "year 1: 3 of 3 evaluations, 1 of 2 in person"
    first, second = evaluations(case, date(2026, 3, 3))
    assert first.status is DeadlineStatus.OVERDUE
    assert second.status is DeadlineStatus.PENDING
    case.given(evaluate(case, date(2026, 2, 1), in_person=True))
    first, _ = evaluations(case, date(2026, 3, 3))
    assert (first.status, first.met_on) == (DeadlineStatus.MET, date(2026, 2, 1))


def test_deadline_evaluations_stop_when_the_gpmi_ends() -> None:
    case = Case().with_gpmi()
    case.given(case.cmd(EndGpmi, gpmi_id=GPMI, occurred_on=date(2025, 5, 1)))
    assert evaluations(case, date(2026, 6, 1)) == []
