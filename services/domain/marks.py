"""Marks: what one event brought about, so a retraction or correction can take it away again.

Every piece of case state that an event creates or changes is a ``Mark`` carrying that
event's id. Taking an event back (``EventRetracted``, or a correction replacing it) removes
every mark it left: an entity it created disappears, a status step it added is dropped, so
the state reads as if the event had never been recorded.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final, Self, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field

from events.base import Frozen
from events.envelope import EventMeta

M = TypeVar("M", bound=BaseModel)

_GONE: Final = object()


class Mark(Frozen):
    """Something one event brought about."""

    event_id: UUID = Field(description="The event that brought this about.")
    on: date = Field(description="Business date of that event.")

    @classmethod
    def of(cls, meta: EventMeta, **fields: Any) -> Self:
        """The mark the event with envelope ``meta`` leaves, with ``fields``."""
        return cls(event_id=meta.event_id, on=meta.occurred_on, **fields)


def without_event(model: M, event_id: UUID) -> M:
    """``model`` with every mark left by ``event_id`` removed (optional marks become None)."""
    updates: dict[str, Any] = {}
    for name in type(model).model_fields:
        old = getattr(model, name)
        new = _revert(old, event_id)
        if new is not old:
            updates[name] = None if new is _GONE else new
    return model.model_copy(update=updates) if updates else model


def _revert(value: Any, event_id: UUID) -> Any:
    if isinstance(value, Mark):
        return _GONE if value.event_id == event_id else without_event(value, event_id)
    if isinstance(value, tuple):
        items = [_revert(v, event_id) for v in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return tuple(v for v in items if v is not _GONE)
    if isinstance(value, dict):
        changed = {k: _revert(v, event_id) for k, v in value.items()}
        if all(changed[k] is v for k, v in value.items()):
            return value
        return {k: v for k, v in changed.items() if v is not _GONE}
    return value
