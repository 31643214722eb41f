"""Bulk import of commands from a JSONL file, one command per line, for one office.

A line is ``{"command": "<CommandName>", "body": {...}, "actor": {...}}`` (schema
``import/line.schema.json`` of ``doorstroom schema export``); ``body`` is exactly the
command's schema. Lines go through ``Application.handle_many`` in chunks. A refused line is
written to ``<FILE>.rejects.jsonl`` with its line number, the reason and the original text.
The command ids make a re-run (also after a crash) store nothing twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import IO, Annotated, Any, Final, Literal, Union, cast
from uuid import UUID

import orjson
from pydantic import Field, TypeAdapter, ValidationError, create_model

from events.base import Frozen
from events.envelope import Actor
from services.app import Application, Handled
from services.commands import COMMANDS, Command, UnknownCommandError, command_class
from services.domain import Context
from services.refusals import Refusal, refusal_of

CHUNK_LINES: Final = 10_000
KEEP_REJECTS: Final = 100
"""Refusals kept in memory to show; the rejects file has them all."""

Item = tuple[Command, Context]
Progress = Callable[[int], None]


class ImportLine(Frozen):
    """One line of a bulk import file: a command, its body, and who recorded it."""

    command: str = Field(description="The command's name.", examples=["StartPlacement"])
    body: dict[str, Any] = Field(
        description="The command itself: the schema commands/<command>.schema.json."
    )
    actor: Actor | None = Field(
        default=None, description="Who recorded it; default: the import's --user and --role."
    )
    correlation_id: UUID | None = Field(
        default=None, description="Shared by the commands of one business process."
    )


@dataclass
class ImportSummary:
    """What one run did with the file's lines."""

    read: int = 0
    stored: int = 0
    already_stored: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejects: list[tuple[int, Refusal]] = field(default_factory=list)  # the first ones

    def add(self, chunk: ChunkOutcome) -> None:
        """Count a chunk's lines (its refusals are counted as they are written out)."""
        self.read += chunk.read
        self.stored += chunk.stored
        self.already_stored += chunk.already_stored

    @property
    def rate(self) -> float:
        """Lines handled per second."""
        return self.read / self.seconds if self.seconds else 0.0


def rejects_path(path: Path) -> Path:
    """``cases.jsonl`` -> ``cases.rejects.jsonl``."""
    stem = path.name.removesuffix(".jsonl")
    return path.with_name(f"{stem}.rejects.jsonl")


def line_schema(base_uri: str) -> dict[str, Any]:
    """JSON Schema of one import line; ``body`` refers to the command's own schema."""
    schema = ImportLine.model_json_schema(ref_template="#/$defs/{model}")
    schema["properties"]["command"]["enum"] = list(COMMANDS)
    schema["allOf"] = [
        {
            "if": {"properties": {"command": {"const": name}}},
            "then": {"properties": {"body": {"$ref": f"{base_uri}commands/{name}.schema.json"}}},
        }
        for name in COMMANDS
    ]
    return schema


def parse_line(raw: bytes, office: str, default: Actor | None, now: datetime) -> Item | Refusal:
    """The command and its context, or why the line cannot be one.

    A valid line is parsed and validated in one pass from its bytes (pydantic's JSON
    parser, the line model chosen by its ``command``); a line that fails there is parsed
    again step by step, which gives the specific refusal (and accepts exactly what the
    step-by-step path accepts, so the fast path never changes what is refused).
    """
    try:
        line = _lines().validate_json(raw)
    except ValidationError:
        data = _json(raw)
        return data if isinstance(data, Refusal) else _command(data, office, default, now)
    return _item(line, office, default, now)


def _json(raw: bytes) -> dict[str, Any] | Refusal:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return Refusal("invalid_line", "not a JSON object on one line")
    if not isinstance(data, dict) or not isinstance(data.get("command"), str):
        return Refusal("invalid_line", 'a line is a JSON object with "command" and "body"')
    return data


def _command(
    data: dict[str, Any], office: str, default: Actor | None, now: datetime
) -> Item | Refusal:
    try:
        line = _line_model(data["command"]).model_validate(data)
    except (UnknownCommandError, ValidationError) as exc:
        return refusal_of(exc, strip=("body",))
    return _item(line, office, default, now)


def _item(line: ImportLine, office: str, default: Actor | None, now: datetime) -> Item | Refusal:
    actor = line.actor or default
    if actor is None:
        return Refusal("missing_actor", "give the line an actor, or the import --user", "actor")
    ctx = Context(actor=actor, office_id=office, now=now, correlation_id=line.correlation_id)
    return cast(Command, line.body), ctx


@cache
def _line_model(name: str) -> type[ImportLine]:
    """A line whose ``body`` is validated as the command ``name`` in the same pass."""
    body = (command_class(name), Field(description=f"The {name} command."))
    return create_model(f"{name}Line", __base__=ImportLine, body=body)


@cache
def _lines() -> TypeAdapter[ImportLine]:
    """Every command's line model, told apart by ``command``: a whole line in one pass."""
    tagged = [
        create_model(
            f"{name}TaggedLine",
            __base__=_line_model(name),
            command=(cast(Any, Literal[name]), Field(description="The command's name.")),
        )
        for name in COMMANDS
    ]
    union: Any = Annotated[Union[tuple(tagged)], Field(discriminator="command")]  # noqa: UP007
    return cast(TypeAdapter[ImportLine], TypeAdapter(union))


async def import_file(
    app: Application,
    path: Path,
    office: str,
    *,
    default_actor: Actor | None = None,
    chunk_lines: int = CHUNK_LINES,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ImportSummary:
    """Import every line of ``path`` for ``office``; refused lines go to the rejects file."""
    summary = ImportSummary()
    started = time.perf_counter()
    with path.open("rb") as source, rejects_path(path).open("wb") as out:
        for chunk, size in _chunks(source, chunk_lines):
            outcome = await import_chunk(app, chunk, office, default_actor, clock())
            summary.add(outcome)
            for number, raw, refusal in outcome.refused:
                reject(summary, out, number, raw, refusal)
            if progress is not None:
                progress(size)
    summary.seconds = time.perf_counter() - started
    return summary


Line = tuple[int, bytes]
"""A line's number (from 1) and its bytes."""


@dataclass
class ChunkOutcome:
    """What became of one chunk's lines; ``refused`` in line order."""

    read: int = 0
    stored: int = 0
    already_stored: int = 0
    refused: list[tuple[int, bytes, Refusal]] = field(default_factory=list)


def _chunks(source: IO[bytes], lines: int) -> Iterator[tuple[list[Line], int]]:
    """Up to ``lines`` non-blank lines at a time with their numbers, and their size in bytes."""
    chunk: list[Line] = []
    size = 0
    for number, raw in enumerate(source, start=1):
        size += len(raw)
        if raw.strip():
            chunk.append((number, raw))
        if len(chunk) >= lines:
            yield chunk, size
            chunk, size = [], 0
    if chunk or size:
        yield chunk, size


async def import_chunk(
    app: Application,
    chunk: list[Line],
    office: str,
    default_actor: Actor | None,
    now: datetime,
) -> ChunkOutcome:
    """Parse, decide and store one chunk's lines (a case's lines in file order)."""
    outcome = ChunkOutcome(read=len(chunk))
    items: list[Item] = []
    accepted: list[tuple[int, bytes]] = []
    refused = outcome.refused
    for number, raw in chunk:
        parsed = parse_line(raw, office, default_actor, now)
        if isinstance(parsed, Refusal):
            refused.append((number, raw, parsed))
        else:
            items.append(parsed)
            accepted.append((number, raw))
    for (number, raw), handled in zip(accepted, await app.handle_many(items), strict=True):
        if not isinstance(handled, Handled):
            refused.append((number, raw, refusal_of(handled)))
        elif handled.duplicate:
            outcome.already_stored += 1
        else:
            outcome.stored += 1
    refused.sort(key=lambda r: r[0])
    return outcome


def reject_line(number: int, raw: bytes, refusal: Refusal) -> bytes:
    """A line of the rejects file: the line number, the reason and the original text."""
    original = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
    return orjson.dumps({"line": number, **refusal.as_dict(), "original": original}) + b"\n"


def reject(
    summary: ImportSummary, rejects: IO[bytes], number: int, raw: bytes, refusal: Refusal
) -> None:
    """Count a refused line, keep it to show if it is among the first, write it out."""
    summary.rejected += 1
    if len(summary.rejects) < KEEP_REJECTS:
        summary.rejects.append((number, refusal))
    rejects.write(reject_line(number, raw, refusal))
