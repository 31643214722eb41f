"""Refusals: a stable code, a message a caseworker understands, the field concerned."""

from __future__ import annotations

from typing import NoReturn


class DomainError(Exception):
    """A command refused by a rule of the domain; nothing is stored.

    ``code`` is stable and machine-readable (``no_open_trajectory``); ``message`` explains the
    refusal in English to the caseworker; ``field`` names the command field concerned, if any.
    """

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.message!r}, field={self.field!r})"


def refuse(code: str, message: str, field: str | None = None) -> NoReturn:
    raise DomainError(code, message, field)


def require(condition: bool, code: str, message: str, field: str | None = None) -> None:
    """Refuse with ``code`` unless ``condition`` holds."""
    if not condition:
        raise DomainError(code, message, field)
