"""Rule files: versions by validity date, exact cents, uncertain amounts marked."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from projections.rules import DATA_DIR, NoRuleError, RuleBook, percent_of

RULES = RuleBook.load()


def test_every_rule_of_the_brief_has_a_file() -> None:
    assert set(RULES.rules) == {"leefloon", "refund", "gpmi", "twe", "art61", "lap"}


def test_leefloon_amount_follows_the_version_valid_on_the_date() -> None:
    before = RULES.leefloon("alleenstaand", date(2025, 1, 31))
    after = RULES.leefloon("alleenstaand", date(2025, 2, 1))
    assert (before.cents, before.rule_version) == (128846, "leefloon-2024-05")
    assert (after.cents, after.rule_version) == (131420, "leefloon-2025-02")
    assert RULES.leefloon("gezinslast", date(2025, 6, 1)).cents == 177607
    assert RULES.leefloon("samenwonend", date(2025, 6, 1)).cents == 87613


def test_uncertain_amounts_are_marked_so() -> None:
    assert not RULES.leefloon("alleenstaand", date(2024, 6, 1)).uncertain
    assert RULES.leefloon("alleenstaand", date(2025, 6, 1)).uncertain  # later indexations [U]
    assert RULES.at("twe", date(2025, 1, 1)).uncertain  # 2017 figures [U]
    assert not RULES.at("gpmi", date(2025, 1, 1)).uncertain


def test_gpmi_supplement_is_ten_percent_in_exact_cents_and_names_both_versions() -> None:
    fig = RULES.gpmi_supplement("gezinslast", date(2025, 3, 1))
    assert fig.cents == 17761  # 10 % of 177607 = 17760.7, half up
    assert fig.rule_version == "gpmi-2016-11/leefloon-2025-02"
    assert RULES.at("gpmi", date(2025, 3, 1)).param("max_months") == 12


def test_art61_premium_is_pro_rata_and_capped_at_full_time() -> None:
    assert RULES.art61_premium(Decimal(38), date(2025, 1, 1)).cents == 25000
    assert RULES.art61_premium(Decimal(19), date(2025, 1, 1)).cents == 12500
    assert RULES.art61_premium(Decimal(45), date(2025, 1, 1)).cents == 25000


def test_twe_and_refund_and_lap_parameters_are_readable() -> None:
    twe = RULES.at("twe", date(2024, 1, 1))
    assert (twe.param("effort_cents_per_month"), twe.param("effort_max_months")) == (25000, 24)
    assert twe.param("art60_compensation_cents_per_month") == 19500
    refund = RULES.at("refund", date(2024, 1, 1))
    assert [t["percent"] for t in refund.param("tiers")] == [65, 70]
    assert RULES.at("lap", date(2024, 12, 1)).version == "lap-call-2"
    assert RULES.at("lap", date(2024, 11, 30)).version == "lap-call-1"


def test_no_version_before_a_rule_existed() -> None:
    with pytest.raises(NoRuleError, match="leefloon"):
        RULES.leefloon("alleenstaand", date(2020, 1, 1))
    with pytest.raises(NoRuleError, match="lap"):
        RULES.at("lap", date(2026, 1, 1))  # no third call known


def test_a_rule_change_is_a_new_version_and_overlaps_are_refused(tmp_path: Path) -> None:
    text = (DATA_DIR / "leefloon.toml").read_text()
    (tmp_path / "leefloon.toml").write_text(
        text.replace("valid_to = 2025-01-31", "valid_to = 2025-02-01")
    )
    with pytest.raises(ValidationError, match="overlap"):
        RuleBook.load(tmp_path)


def test_percent_of_rounds_half_up_to_whole_cents() -> None:
    assert percent_of(131420, Decimal(10)) == 13142
    assert percent_of(5, Decimal(10)) == 1  # 0.5 cent rounds up
    assert percent_of(4, Decimal(10)) == 0
