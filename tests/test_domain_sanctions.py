"""Sanctions: an earlier warning on the agreement, and the legal maximum duration."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from services.commands.gpmi import EndGpmi
from services.commands.sanctions import ImposeSanction, IssueWarning, RecordHearing
from tests.support.domain import AGREEMENT, GPMI, WARNING, Case, names


def warning(case: Case, on: date = date(2025, 4, 1), **fields: object) -> IssueWarning:
    body = {"warning_id": WARNING, "gpmi_id": GPMI, "agreement_id": AGREEMENT, "occurred_on": on}
    return case.cmd(IssueWarning, **{**body, **fields})


def sanction(case: Case, **fields: object) -> ImposeSanction:
    body = {
        "decision_id": uuid.uuid4(),
        "basis": "gpmi_breach",
        "months": 1,
        "repeat": False,
        "warning_id": WARNING,
        "hearing_id": None,
        "occurred_on": date(2025, 5, 1),
    }
    return case.cmd(ImposeSanction, **{**body, **fields})


def warned() -> Case:
    case = Case().with_gpmi()
    return case.given(warning(case))


def test_no_sanction_without_an_earlier_warning_on_the_agreement() -> None:
    case = Case().with_gpmi()
    refusal = case.refused(sanction(case, warning_id=None))
    assert (refusal.code, refusal.field) == ("no_prior_warning", "warning_id")
    assert case.refused(sanction(case)).code == "no_prior_warning"  # not issued in this case
    case.given(warning(case, on=date(2025, 5, 2)))
    assert case.refused(sanction(case)).code == "no_prior_warning"  # issued after the decision


def test_a_sanction_follows_its_warning() -> None:
    case = warned()
    assert names(case.when(sanction(case))) == ["SanctionImposed"]


def test_a_warning_names_an_agreement_of_a_running_gpmi() -> None:
    case = Case().with_gpmi()
    refusal = case.refused(warning(case, agreement_id=uuid.uuid4()))
    assert (refusal.code, refusal.field) == ("unknown_agreement", "agreement_id")
    case.given(case.cmd(EndGpmi, gpmi_id=GPMI))
    assert case.refused(warning(case)).code == "gpmi_ended"


def test_a_gpmi_breach_is_sanctioned_for_at_most_1_month() -> None:
    case = warned()
    refusal = case.refused(sanction(case, months=2))
    assert (refusal.code, refusal.field) == ("sanction_too_long", "months")
    assert "at most 1 month" in refusal.message


def test_a_gpmi_breach_repeated_within_a_year_is_sanctioned_for_at_most_3_months() -> None:
    case = warned()
    case.given(sanction(case, occurred_on=date(2025, 5, 1)))
    second = {"occurred_on": date(2026, 4, 30), "repeat": True}
    assert case.refused(sanction(case, months=4, **second)).code == "sanction_too_long"
    assert names(case.when(sanction(case, months=3, **second))) == ["SanctionImposed"]


def test_a_repeat_needs_an_earlier_sanction_within_the_year() -> None:
    case = warned()
    refusal = case.refused(sanction(case, repeat=True))
    assert (refusal.code, refusal.field) == ("repeat_without_earlier_sanction", "repeat")
    case.given(sanction(case, occurred_on=date(2025, 5, 1)))
    too_late = sanction(case, repeat=True, occurred_on=date(2026, 5, 2))
    assert case.refused(too_late).code == "repeat_without_earlier_sanction"


@pytest.mark.parametrize(
    ("basis", "first", "repeated"), [("undeclared_resources", 6, 12), ("fraud", 12, 24)]
)
def test_resources_sanctions_last_at_most_6_or_12_months_doubled_when_repeated(
    basis: str, first: int, repeated: int
) -> None:
    case = Case().granted()
    no_warning = {"basis": basis, "warning_id": None}
    assert case.refused(sanction(case, months=first + 1, **no_warning)).code == "sanction_too_long"
    case.given(sanction(case, months=first, **no_warning, occurred_on=date(2023, 6, 1)))
    again = {**no_warning, "repeat": True, "occurred_on": date(2026, 6, 1)}
    if repeated < 24:  # the command itself allows no more than 24 months
        too_long = sanction(case, months=repeated + 1, **again)
        assert case.refused(too_long).code == "sanction_too_long"
    assert names(case.when(sanction(case, months=repeated, **again)))
    late = {**again, "occurred_on": date(2026, 6, 2)}
    assert case.refused(
        sanction(case, months=repeated, **late), now=datetime(2026, 6, 2, tzinfo=UTC)
    ).code == ("repeat_without_earlier_sanction")


def test_a_hearing_names_a_warning_of_the_case() -> None:
    case = Case().with_gpmi()
    refusal = case.refused(case.cmd(RecordHearing, warning_id=uuid.uuid4()))
    assert (refusal.code, refusal.field) == ("unknown_warning", "warning_id")


def test_a_sanction_names_a_hearing_of_the_case() -> None:
    case = warned()
    refusal = case.refused(sanction(case, hearing_id=uuid.uuid4()))
    assert (refusal.code, refusal.field) == ("unknown_hearing", "hearing_id")
