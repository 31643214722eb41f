"""The case fold for ``CaseRepository``: initial state, evolve, and JSON snapshots."""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from events.codec import RecordedEvent
from services.domain.handlers import evolve
from services.domain.state import CaseState

_EMPTY: Final = CaseState(case_id=UUID(int=0))


class CaseFold:
    """Folds a case's events into ``CaseState`` (the ``Fold`` protocol of services.cases).

    The name carries a version: change it whenever ``evolve`` or the state's shape changes,
    so snapshots taken by older code are not reused.
    """

    name = "case-state_v2"

    def initial(self, case_id: UUID) -> CaseState:
        # A copy of one empty state: validating shares nothing but copies every default.
        return _EMPTY.model_copy(update={"case_id": case_id})

    def evolve(self, state: CaseState, event: RecordedEvent) -> CaseState:
        return evolve(state, event)

    def dump(self, state: CaseState) -> Any:
        return state.model_dump(mode="json")

    def restore(self, data: Any) -> CaseState:
        return CaseState.model_validate(data)
