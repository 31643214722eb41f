"""Subsidy and benefit rules as versioned data files a finance officer can read.

Each ``data/<rule>.toml`` lists versions with a validity period, the source they rest on and
whether the amounts are uncertain ([U] in domain.md). Every computed figure carries the
version it used, so an old figure keeps naming the rule it was computed with after a change.
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

DATA_DIR = Path(__file__).parent / "data"


class NoRuleError(LookupError):
    """No version of a rule is valid on the asked date."""


class RuleVersion(BaseModel):
    """One version of a rule; its parameters are the other keys of the file."""

    model_config = ConfigDict(frozen=True, extra="allow")

    version: str
    valid_from: date
    valid_to: date | None = None
    source: str
    uncertain: bool

    def param(self, name: str) -> Any:
        extra = self.model_extra or {}
        if name not in extra:
            raise KeyError(f"rule version {self.version} has no parameter {name!r}")
        return extra[name]

    def covers(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    title: str
    versions: tuple[RuleVersion, ...]

    @model_validator(mode="after")
    def _periods_do_not_overlap(self) -> Rule:
        ordered = sorted(self.versions, key=lambda v: v.valid_from)
        for earlier, later in pairwise(ordered):
            if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
                raise ValueError(
                    f"{self.rule}: versions {earlier.version} and {later.version} overlap"
                )
        if len({v.version for v in self.versions}) != len(self.versions):
            raise ValueError(f"{self.rule}: version names must be unique")
        return self

    def at(self, on: date) -> RuleVersion:
        for version in self.versions:
            if version.covers(on):
                return version
        raise NoRuleError(f"no version of rule {self.rule!r} is valid on {on.isoformat()}")


class Figure(BaseModel):
    """A computed amount with the rule version behind it."""

    model_config = ConfigDict(frozen=True)

    cents: int
    rule_version: str
    uncertain: bool


class RuleBook:
    """All rule files of a directory."""

    def __init__(self, rules: dict[str, Rule]) -> None:
        self.rules = rules

    @classmethod
    def load(cls, directory: Path = DATA_DIR) -> RuleBook:
        rules = {}
        for path in sorted(directory.glob("*.toml")):
            rule = Rule.model_validate(tomllib.loads(path.read_text()))
            rules[rule.rule] = rule
        return cls(rules)

    def at(self, rule: str, on: date) -> RuleVersion:
        try:
            return self.rules[rule].at(on)
        except KeyError:
            raise NoRuleError(f"unknown rule {rule!r}") from None

    def leefloon(self, category: str, on: date) -> Figure:
        """Monthly leefloon of a category (samenwonend / alleenstaand / gezinslast)."""
        v = self.at("leefloon", on)
        return Figure(
            cents=int(v.param("monthly_cents")[category]),
            rule_version=v.version,
            uncertain=v.uncertain,
        )

    def gpmi_supplement(self, category: str, month_start: date) -> Figure:
        """The GPMI subsidy for one month: a percentage of that month's leefloon."""
        v = self.at("gpmi", month_start)
        base = self.leefloon(category, month_start)
        cents = percent_of(base.cents, Decimal(v.param("percent_of_leefloon")))
        return Figure(
            cents=cents,
            rule_version=f"{v.version}/{base.rule_version}",
            uncertain=v.uncertain or base.uncertain,
        )

    def art61_premium(self, hours_per_week: Decimal, month_start: date) -> Figure:
        """Art. 61 premium for one month, pro rata to the hours of a full-time week."""
        v = self.at("art61", month_start)
        full = Decimal(v.param("full_time_hours_per_week"))
        share = min(hours_per_week / full, Decimal(1))
        cents = int(
            (Decimal(v.param("max_cents_per_month_full_time")) * share).quantize(
                Decimal(1), rounding=ROUND_HALF_UP
            )
        )
        return Figure(cents=cents, rule_version=v.version, uncertain=v.uncertain)


def percent_of(cents: int, percent: Decimal) -> int:
    """``percent`` % of an amount in cents, rounded half up to a whole cent."""
    return int((Decimal(cents) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@cache
def default_rules() -> RuleBook:
    return RuleBook.load()
