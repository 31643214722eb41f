"""Why a command was not stored, as a code, a message and a field, for every entry point.

Entry points (NATS, bulk import, HTTP) answer with a ``Refusal`` instead of an exception:
never a stack trace, and never the input that was sent (personal data may be in it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError

from events.base import PERSONAL
from services.commands import COMMANDS, UnknownCommandError
from services.domain import DomainError
from services.offices import UnknownOfficeError
from services.store import ConcurrencyError

log = logging.getLogger(__name__)

MAX_PROBLEMS: Final = 10
_PERSONAL_FIELDS: Final = frozenset(
    name
    for cls in COMMANDS.values()
    for name, info in cls.model_fields.items()
    if any(m is PERSONAL for m in info.metadata)
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input: where, and what (never the value itself)."""

    field: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """A stable machine-readable ``code``, a ``message`` for people, the ``field`` concerned."""

    code: str
    message: str
    field: str | None = None
    problems: tuple[Problem, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        if self.problems:
            body["problems"] = [{"field": p.field, "message": p.message} for p in self.problems]
        return body


def refusal_of(exc: BaseException, *, strip: Sequence[str] = ()) -> Refusal:
    """The refusal for ``exc``; an unexpected error is logged here and reported generically.

    ``strip`` drops leading location parts a transport adds (FastStream's ``body``).
    """
    if isinstance(exc, DomainError):
        return Refusal(exc.code, exc.message, exc.field)
    if isinstance(exc, ValidationError):
        return invalid(exc, strip=strip)
    if isinstance(exc, UnknownCommandError):
        return Refusal("unknown_command", str(exc.args[0]), "command")
    if isinstance(exc, UnknownOfficeError):
        return Refusal("unknown_office", f"office {exc.office_id} is not a known office")
    if isinstance(exc, ConcurrencyError):
        return Refusal(
            "concurrent_write",
            "the case changed twice while this command was decided; send it again",
            "case_id",
        )
    log.error("command failed unexpectedly", exc_info=exc)
    return Refusal("internal_error", "the command could not be handled; nothing was stored")


def invalid(exc: ValidationError, *, strip: Sequence[str] = ()) -> Refusal:
    """``invalid_command`` with one problem per validation error, without the input values."""
    problems = tuple(_problem(err, strip) for err in exc.errors(include_input=False))
    shown = problems[:MAX_PROBLEMS]
    more = len(problems) - len(shown)
    text = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in shown)
    if more:
        text += f"; and {more} more"
    first = shown[0].field if shown else None
    return Refusal("invalid_command", text or "the command is not valid", first, shown)


def _problem(err: Any, strip: Sequence[str]) -> Problem:
    loc = [str(part) for part in err.get("loc", ())]
    while loc and strip and loc[0] in strip:
        loc = loc[1:]
    where = ".".join(loc) or None
    if loc and loc[0] in _PERSONAL_FIELDS:
        # Messages about personal fields could quote the value: say only what kind of error.
        return Problem(where, f"not valid ({err.get('type', 'error')})")
    message = str(err.get("msg", "not valid"))
    return Problem(where, message.removeprefix("Value error, "))
