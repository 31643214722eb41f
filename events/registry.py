"""Stored event names, versions and upcasters, independent of Python class paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from events.base import DomainEvent, declared_events

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]


class UnknownEventError(LookupError):
    """A stored name that no event class or upcaster chain knows."""


class EventRegistry:
    """Maps ``(name, version)`` of a stored event to the current class via upcasters."""

    def __init__(self) -> None:
        self._current: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, cls: type[DomainEvent]) -> type[DomainEvent]:
        name = cls.event_name
        existing = self._current.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"event name {name!r} is already taken by {existing.__qualname__}")
        self._current[name] = cls
        return cls

    def upcaster(self, name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function turning a ``name.v{from_version}`` payload into the next version."""

        def decorate(fn: Upcaster) -> Upcaster:
            key = (name, from_version)
            if key in self._upcasters:
                raise ValueError(f"upcaster for {name}.v{from_version} registered twice")
            self._upcasters[key] = fn
            return fn

        return decorate

    def get(self, name: str) -> type[DomainEvent]:
        try:
            return self._current[name]
        except KeyError:
            raise UnknownEventError(f"unknown event name {name!r}") from None

    def knows(self, name: str) -> bool:
        return name in self._current

    def names(self) -> list[str]:
        return sorted(self._current)

    def classes(self) -> list[type[DomainEvent]]:
        return [self._current[n] for n in self.names()]

    def upcast(self, name: str, version: int, payload: Payload) -> Payload:
        """Run the upcaster chain from ``version`` to the current version of ``name``."""
        cls = self.get(name)
        if version > cls.event_version:
            raise UnknownEventError(
                f"{name}.v{version} is newer than this code knows (v{cls.event_version})"
            )
        while version < cls.event_version:
            step = self._upcasters.get((name, version))
            if step is None:
                raise UnknownEventError(f"no upcaster from {name}.v{version}")
            payload = step(dict(payload))
            version += 1
        return payload

    def load(self, name: str, version: int, payload: Payload) -> DomainEvent:
        """Validate a stored payload (after upcasting) into the current event class."""
        cls = self.get(name)
        try:
            return cls.model_validate(self.upcast(name, version, payload))
        except ValidationError as exc:
            raise ValueError(f"stored {name}.v{version} does not validate: {exc}") from exc


REGISTRY = EventRegistry()


def registry() -> EventRegistry:
    """The registry with the whole catalogue loaded (importing it registers every event)."""
    import events.catalogue  # noqa: F401  - importing registers the catalogue

    for cls in declared_events():
        if cls.__module__.startswith("events.") and not REGISTRY.knows(cls.event_name):
            REGISTRY.register(cls)
    return REGISTRY
