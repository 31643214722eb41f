"""The stored record: its hash verifies after a JSON round trip for every catalogue event."""

from __future__ import annotations

import pytest

from events.base import DomainEvent
from events.catalogue import EVENTS
from events.codec import GENESIS, decode, encode, parse, record_hash
from events.registry import registry
from tests.fixtures.examples import PlainSealer, example_event, example_meta


@pytest.mark.parametrize("cls", EVENTS, ids=lambda c: c.stored_type())
def test_hash_of_a_parsed_record_equals_the_hash_written(cls: type[DomainEvent]) -> None:
    event = example_event(cls)
    encoded = encode(example_meta(), event, case_version=1, prev_hash=GENESIS, sealer=PlainSealer())
    record = parse(encoded.data)
    assert record["hash"] == encoded.hash
    assert record_hash(record) == encoded.hash
    back = decode(encoded.data, registry(), sealer=PlainSealer(), reveal=True)
    assert back.event == event


def test_changing_any_value_changes_the_hash() -> None:
    cls = EVENTS[0]
    encoded = encode(
        example_meta(), example_event(cls), case_version=1, prev_hash=GENESIS, sealer=PlainSealer()
    )
    record = parse(encoded.data)
    record["case_version"] = 2
    assert record_hash(record) != encoded.hash
