"""Parsing an import line in one pass gives exactly what the step-by-step parse gives."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from events.envelope import Actor
from services.commands import COMMANDS
from services.importer import _command, _json, parse_line
from services.refusals import Refusal
from tests.fixtures.examples import example_body

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ACTOR = {"user_id": "u-1", "role": "job_coach"}


def step_by_step(raw: bytes) -> object:
    data = _json(raw)
    return data if isinstance(data, Refusal) else _command(data, "31004", None, NOW)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_line_parses_to_the_same_command_and_context(name: str) -> None:
    raw = orjson.dumps({"command": name, "body": example_body(COMMANDS[name]), "actor": ACTOR})
    fast = parse_line(raw, "31004", None, NOW)
    assert not isinstance(fast, Refusal), fast
    assert fast == step_by_step(raw)
    command, ctx = fast
    assert type(command) is COMMANDS[name]
    assert ctx.actor == Actor.model_validate(ACTOR)


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[1, 2]",
        b'{"body": {}}',
        b'{"command": "StartPlacment", "body": {}}',
        b'{"command": "CloseCase", "body": {"case_id": "nope"}}',
        b'{"command": "CloseCase", "body": {}, "actor": {"user_id": "u 1", "role": "x"}}',
        b'{"command": "CloseCase", "body": {}, "extra": 1}',
    ],
)
def test_a_bad_line_gets_the_refusal_of_the_step_by_step_parse(raw: bytes) -> None:
    refusal = parse_line(raw, "31004", None, NOW)
    assert isinstance(refusal, Refusal)
    assert refusal == step_by_step(raw)


def test_a_line_without_actor_takes_the_default_or_is_refused() -> None:
    body = example_body(COMMANDS["CloseCase"])
    raw = orjson.dumps({"command": "CloseCase", "body": body})
    refused = parse_line(raw, "31004", None, NOW)
    assert isinstance(refused, Refusal)
    assert refused.code == "missing_actor"
    default = Actor.model_validate(ACTOR)
    parsed = parse_line(raw, "31004", default, NOW)
    assert not isinstance(parsed, Refusal)
    assert parsed[1].actor == default
