"""A command's events and envelopes are built fast and exactly as full validation builds them."""

from __future__ import annotations

import pickle
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from events.base import DomainEvent
from events.envelope import EventMeta, EvidenceRef
from events.registry import registry
from services.commands import COMMANDS, Command
from services.domain import derived_event_id
from services.domain.context import EVENT_ID_NAMESPACE
from services.domain.handlers import event_from
from tests.fixtures.examples import example_meta
from tests.support.domain import Case


def test_a_derived_event_id_is_the_uuid5_of_the_command_id_and_index() -> None:
    for _ in range(500):
        command_id = uuid.uuid4()
        for index in (0, 1, 7, 999):
            expected = uuid.uuid5(EVENT_ID_NAMESPACE, f"{command_id}/{index}")
            derived = derived_event_id(command_id, index)
            assert derived == expected
            assert (str(derived), hash(derived), derived.version) == (
                str(expected),
                hash(expected),
                5,
            )
            assert pickle.loads(pickle.dumps(derived)) == expected
            assert {derived: 1}[expected] == 1


def _fields(**overrides: Any) -> dict[str, Any]:
    fields = dict(example_meta(causation_id=uuid.uuid4(), corrects=None).__dict__)
    fields.update(overrides)
    return fields


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"evidence": (), "person_ref": None, "legal_basis": "RMI-wet art. 11"},
        {"rule_version": "rmi-2025.1", "corrects": uuid.uuid4()},
        {"office_id": " 31004\n"},  # stripped, as validation strips it
        # the business date on the recording date in Brussels, a UTC evening earlier
        {"occurred_on": date(2025, 3, 5), "recorded_at": datetime(2025, 3, 4, 23, 30, tzinfo=UTC)},
    ],
)
def test_an_envelope_of_validated_values_equals_the_validated_envelope(
    overrides: dict[str, Any],
) -> None:
    fields = _fields(**overrides)
    fast, validated = EventMeta.of_validated(**fields), EventMeta(**fields)
    assert fast == validated
    assert fast.model_fields_set == validated.model_fields_set
    assert fast.model_dump_json() == validated.model_dump_json()
    assert fast.model_dump() == validated.model_dump()


@pytest.mark.parametrize(
    "overrides",
    [
        {"office_id": "3100"},
        {"occurred_on": date(2025, 3, 6)},  # after the recording date
        {"occurred_on": date(1999, 12, 31)},
        {"recorded_at": datetime(2025, 3, 4, 9, 30)},  # naive
        {"evidence": [{"kind": "scan", "ref": "x"}]},
    ],
)
def test_values_the_command_did_not_check_are_refused_as_full_validation_refuses_them(
    overrides: dict[str, Any],
) -> None:
    fields = _fields(**overrides)
    with pytest.raises(ValidationError) as validated:
        EventMeta(**fields)
    with pytest.raises(ValidationError) as fast:
        EventMeta.of_validated(**fields)
    assert _described(fast.value) == _described(validated.value)


def _described(exc: ValidationError) -> list[tuple[Any, ...]]:
    return [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]


def test_unusual_but_valid_values_are_validated_in_full() -> None:
    later = datetime(2025, 3, 4, 9, 30, tzinfo=UTC) + timedelta(hours=1)
    fields = _fields(evidence=[EvidenceRef(kind="event", ref="e-1")], recorded_at=later)
    fast = EventMeta.of_validated(**fields)
    assert fast == EventMeta(**fields)
    assert isinstance(fast.evidence, tuple)


@pytest.mark.parametrize("command_cls", list(COMMANDS.values()), ids=list(COMMANDS))
def test_an_event_takes_the_command_values_exactly_as_dumping_them_gives(
    command_cls: type[Command],
) -> None:
    command = Case().cmd(command_cls)
    for name in command_cls.produces:
        event_cls = registry().get(name)
        shared = set(event_cls.model_fields) & set(command_cls.model_fields)
        try:
            expected: DomainEvent | str = event_cls.model_validate(
                command.model_dump(include=shared)
            )
        except ValidationError as exc:
            expected = str(exc)
        try:
            got: DomainEvent | str = event_from(event_cls, command)
        except ValidationError as exc:
            got = str(exc)
        assert got == expected
        if isinstance(got, DomainEvent) and isinstance(expected, DomainEvent):
            assert got.model_fields_set == expected.model_fields_set
            assert got.model_dump_json() == expected.model_dump_json()
