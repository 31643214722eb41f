"""The trajectory domain: case state, ``evolve`` per event, pure ``decide`` per command.

Importing the package registers every feature module's deciders and evolvers.
"""

from __future__ import annotations

from services.domain import (
    activation,
    aftercare,
    agreements,
    aid,
    case,
    decisions,
    gpmi,
    guidance,
    outflow,
    placements,
    privacy,
    rights,
    sanctions,
    subsidies,
)
from services.domain.context import Context, derived_event_id
from services.domain.deadlines import Deadline, DeadlineKind, DeadlineStatus
from services.domain.errors import DomainError
from services.domain.fold import CaseFold
from services.domain.handlers import decide, evolve
from services.domain.rules import check_visible
from services.domain.state import CaseKind, CaseState

FEATURES = (
    activation,
    aftercare,
    agreements,
    aid,
    case,
    decisions,
    gpmi,
    guidance,
    outflow,
    placements,
    privacy,
    rights,
    sanctions,
    subsidies,
)

__all__ = [
    "FEATURES",
    "CaseFold",
    "CaseKind",
    "CaseState",
    "Context",
    "Deadline",
    "DeadlineKind",
    "DeadlineStatus",
    "DomainError",
    "check_visible",
    "decide",
    "derived_event_id",
    "evolve",
]
