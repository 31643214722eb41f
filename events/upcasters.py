"""Upcasters: turn stored payloads of older event versions into the next version."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Final

from events.registry import REGISTRY, Payload

_EUROS: Final = re.compile(r"\d{1,10}(\.\d{1,2})?", re.ASCII)
_V1_CATEGORY: Final = {1: "samenwonend", 2: "alleenstaand", 3: "gezinslast"}


def euros_to_cents(value: Any) -> int:
    """Exact cents of a euro amount stored as a decimal string ("1314.20"); never via float."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"euro amount must be a decimal string, got {value!r}")
    text = str(value)
    if not _EUROS.fullmatch(text):
        raise ValueError(f"euro amount {value!r} is not euros with at most 2 decimals")
    return int(Decimal(text) * 100)


@REGISTRY.upcaster("LeefloonGranted", 1)
def leefloon_granted_v1_to_v2(payload: Payload) -> Payload:
    """v1 stored ``amount`` as a euro string and ``category`` as the number 1, 2 or 3."""
    payload["monthly_amount_cents"] = euros_to_cents(payload.pop("amount"))
    category = payload["category"]
    if type(category) is int and category in _V1_CATEGORY:
        payload["category"] = _V1_CATEGORY[category]
    return payload


@REGISTRY.upcaster("LeefloonGranted", 2)
def leefloon_granted_v2_to_v3(payload: Payload) -> Payload:
    """v2 predates the equivalent leefloon: every stored grant was a leefloon."""
    payload.setdefault("right_type", "leefloon")
    return payload


@REGISTRY.upcaster("PlacementStarted", 1)
def placement_started_v1_to_v2(payload: Payload) -> Payload:
    """v1 stored whole hours per week as an integer and had no MLP reference."""
    hours = payload["hours_per_week"]
    if isinstance(hours, bool) or not isinstance(hours, int):
        raise TypeError(f"PlacementStarted.v1 hours_per_week must be an integer, got {hours!r}")
    payload["hours_per_week"] = str(Decimal(hours))
    payload.setdefault("mlp_ref", None)
    return payload
