"""The whole catalogue: importing this module declares every event and every upcaster."""

from __future__ import annotations

from typing import Final

from events import (
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
    upcasters,
)
from events.base import DomainEvent, declared_events

AREA_MODULES: Final = (
    aid,
    case,
    rights,
    guidance,
    gpmi,
    sanctions,
    activation,
    placements,
    outflow,
    subsidies,
    privacy,
)
_MODULE_NAMES: Final = frozenset(m.__name__ for m in AREA_MODULES)

EVENTS: Final[tuple[type[DomainEvent], ...]] = tuple(
    cls for cls in declared_events() if cls.__module__ in _MODULE_NAMES
)
"""Every event of the catalogue (test or sample events declared elsewhere excluded)."""

__all__ = ["AREA_MODULES", "EVENTS", "upcasters"]
