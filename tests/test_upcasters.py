"""Old stored payloads still load as the current event versions, exactly."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from events.codec import decode, record_hash
from events.placements import ContractType, PlacementStarted, PlacementType
from events.registry import UnknownEventError, registry
from events.rights import GpmiExemption, LeefloonCategory, LeefloonGranted, RightType
from events.upcasters import euros_to_cents

STORED = Path(__file__).parent / "fixtures" / "stored"


def stored(name: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((STORED / name).read_text(encoding="utf-8"))
    assert record_hash(record) == record["hash"], "fixture edited: it must stay as stored"
    return record


def test_current_versions_are_the_ones_the_fixtures_predate() -> None:
    assert LeefloonGranted.event_version == 3
    assert PlacementStarted.event_version == 2


def test_leefloon_granted_v1_euro_string_and_category_number_become_cents_and_name() -> None:
    record = stored("LeefloonGranted.v1.json")
    event = registry().load("LeefloonGranted", 1, record["data"])
    assert isinstance(event, LeefloonGranted)
    assert event.monthly_amount_cents == 131_420
    assert type(event.monthly_amount_cents) is int
    assert event.category is LeefloonCategory.ALLEENSTAAND
    assert event.right_type is RightType.LEEFLOON
    assert event.decision_id == UUID("8a4f2c3e-5b6d-4e7f-8a9b-0c1d2e3f4a5b")
    assert event.effective_from == date(2025, 2, 3)
    assert event.gpmi_required
    assert event.gpmi_exemption is None


def test_leefloon_granted_v2_without_right_type_was_a_leefloon() -> None:
    record = stored("LeefloonGranted.v2.json")
    event = registry().load("LeefloonGranted", 2, record["data"])
    assert isinstance(event, LeefloonGranted)
    assert event.right_type is RightType.LEEFLOON
    assert event.category is LeefloonCategory.SAMENWONEND
    assert event.monthly_amount_cents == 87_613
    assert event.effective_until == date(2025, 10, 31)
    assert event.gpmi_exemption is GpmiExemption.NOT_A_NEW_FILE


def test_placement_started_v1_integer_hours_become_decimal_without_mlp_ref() -> None:
    record = stored("PlacementStarted.v1.json")
    event = registry().load("PlacementStarted", 1, record["data"])
    assert isinstance(event, PlacementStarted)
    assert event.hours_per_week == Decimal("19")
    assert isinstance(event.hours_per_week, Decimal)
    assert event.mlp_ref is None
    assert event.placement_type is PlacementType.TWE_ART60
    assert event.contract is ContractType.WERKERVARINGSOVEREENKOMST
    assert event.placed_with_kbo == "0456789133"


@pytest.mark.parametrize(
    "name", ["LeefloonGranted.v1.json", "LeefloonGranted.v2.json", "PlacementStarted.v1.json"]
)
def test_whole_stored_record_decodes_through_the_codec(name: str) -> None:
    record = stored(name)
    recorded = decode(json.dumps(record).encode(), registry())
    assert recorded.stored_type == f"{record['type']}.v{record['version']}"
    assert recorded.event.event_version > record["version"]
    assert recorded.hash == record["hash"]


def test_upcasting_does_not_touch_the_callers_payload() -> None:
    data = stored("LeefloonGranted.v1.json")["data"]
    before = json.dumps(data, sort_keys=True)
    registry().load("LeefloonGranted", 1, data)
    assert json.dumps(data, sort_keys=True) == before


def test_unknown_event_name_is_refused() -> None:
    with pytest.raises(UnknownEventError, match="NoSuchThingHappened"):
        registry().load("NoSuchThingHappened", 1, {})


def test_version_newer_than_the_code_is_refused() -> None:
    data = stored("PlacementStarted.v1.json")["data"]
    with pytest.raises(UnknownEventError, match=r"PlacementStarted\.v3 is newer"):
        registry().load("PlacementStarted", 3, data)


def test_version_without_an_upcaster_chain_is_refused() -> None:
    with pytest.raises(UnknownEventError, match="no upcaster"):
        registry().load("PlacementEnded", 0, {})


@pytest.mark.parametrize(
    ("euros", "cents"),
    [("1314.20", 131_420), ("876.13", 87_613), ("0.01", 1), ("1776.07", 177_607), (12, 1200)],
)
def test_euros_to_cents_is_exact(euros: str | int, cents: int) -> None:
    assert euros_to_cents(euros) == cents


@pytest.mark.parametrize("bad", ["1314.205", "NaN", "Infinity", "twaalf", "1e400000"])
def test_euros_to_cents_refuses_what_is_not_whole_cents(bad: str) -> None:
    with pytest.raises(ValueError, match="euro amount"):
        euros_to_cents(bad)


@pytest.mark.parametrize("bad", [1314.2, True, None])
def test_euros_to_cents_refuses_floats_and_other_types(bad: object) -> None:
    with pytest.raises(TypeError, match="decimal string"):
        euros_to_cents(bad)
