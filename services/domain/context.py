"""What a decision gets from outside the command: who acts, for which office, when, which ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from hashlib import sha1
from typing import Final
from uuid import UUID, SafeUUID

from events.envelope import BRUSSELS, Actor

EVENT_ID_NAMESPACE: Final = UUID("0b8e6c1e-5d0a-4f4e-9a51-2d6f3c7b8e90")
_NAMESPACE: Final = EVENT_ID_NAMESPACE.bytes
# RFC 4122 version 5 and variant bits, as uuid.uuid5 sets them.
_CLEAR: Final = ~((0xF000 << 64) | (0xC000 << 48))
_SET: Final = (5 << 76) | (0x8000 << 48)

IdSource = Callable[[UUID, int], UUID]
"""Gives the id of the ``index``-th event (0-based) of the command ``command_id``."""


def derived_event_id(command_id: UUID, index: int) -> UUID:
    """A deterministic event id: a retried command gets the same ids and is stored once.

    Exactly ``uuid5(EVENT_ID_NAMESPACE, f"{command_id}/{index}")``, built without
    ``UUID.__init__``'s argument checks: every event of every command needs one.
    """
    name = _NAMESPACE + f"{command_id}/{index}".encode()
    digest = sha1(name, usedforsecurity=False).digest()
    event_id = object.__new__(UUID)
    object.__setattr__(event_id, "int", (int.from_bytes(digest[:16]) & _CLEAR) | _SET)
    object.__setattr__(event_id, "is_safe", SafeUUID.unknown)
    return event_id


@dataclass(frozen=True, slots=True)
class Context:
    """The entry point's part of a command: actor, office, recording time and an id source.

    ``key_destroyed`` is the key vault's answer for ``ErasePersonData``, the one decision
    that records the outcome of I/O done just before it (the application service fills it).
    """

    actor: Actor
    office_id: str
    now: datetime
    ids: IdSource = derived_event_id
    correlation_id: UUID | None = None
    key_destroyed: bool | None = None

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("Context.now must be timezone-aware")

    @property
    def today(self) -> date:
        """The recording date in Brussels, the latest business date a fact can have."""
        return self.now.astimezone(BRUSSELS).date()
