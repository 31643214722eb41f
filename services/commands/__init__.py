"""The command side: one model per user action, a registry by name, and parsing."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Final

from services.commands import (
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
)
from services.commands.base import Command, PersonalCommand, declared_commands

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


class UnknownCommandError(LookupError):
    """A command name that no command model has."""


def _by_name() -> dict[str, type[Command]]:
    modules = {m.__name__ for m in AREA_MODULES}
    found: dict[str, type[Command]] = {}
    for cls in declared_commands():
        if cls.__module__ not in modules:
            continue
        if cls.command_name in found:
            raise ValueError(f"command name {cls.command_name!r} is declared twice")
        found[cls.command_name] = cls
    return dict(sorted(found.items()))


COMMANDS: Final[dict[str, type[Command]]] = _by_name()


def command_class(name: str) -> type[Command]:
    """The command model called ``name``, or UnknownCommandError with the closest names."""
    try:
        return COMMANDS[name]
    except KeyError:
        close = difflib.get_close_matches(name, COMMANDS, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownCommandError(f"unknown command {name!r}{hint}") from None


def parse_command(name: str, body: Mapping[str, Any] | bytes) -> Command:
    """Validate a command body (a dict, or JSON bytes) against the model called ``name``.

    Raises UnknownCommandError for an unknown name and pydantic's ValidationError, whose
    entries name the offending field, for a malformed body.
    """
    cls = command_class(name)
    if isinstance(body, bytes | bytearray):
        return cls.model_validate_json(body)
    return cls.model_validate(body)


__all__ = [
    "COMMANDS",
    "Command",
    "PersonalCommand",
    "UnknownCommandError",
    "command_class",
    "parse_command",
]
