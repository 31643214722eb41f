"""JSON Schema export: one file per event and command, and each accepts valid, refuses invalid.

``jsonschema`` is not installed in the venv, so ``check`` below is a small validator for the
keywords the exported schemas use (including the ``format`` assertions uuid/date/date-time).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from events.base import DomainEvent
from events.catalogue import EVENTS
from events.codec import GENESIS, encode
from events.schema import DIALECT, export_schemas
from services.commands import COMMANDS
from services.commands.placements import StartPlacement
from tests.fixtures.examples import PlainSealer, example_body, example_event, example_meta

EVENT_IDS = [cls.event_name for cls in EVENTS]
TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _format_ok(fmt: str, value: str) -> bool:
    parse = {"uuid": UUID, "date": date.fromisoformat, "date-time": datetime.fromisoformat}
    try:
        parse.get(fmt, str)(value)  # type: ignore[operator]
    except ValueError:
        return False
    return True


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, TYPES[kind])


def check(schema: Any, value: Any, root: dict[str, Any], path: str = "$") -> list[str]:
    """Errors of ``value`` against ``schema`` (a 2020-12 subset); empty when valid."""
    if schema is True:
        return []
    if schema is False:
        return [f"{path}: not allowed"]
    if "$ref" in schema:
        return check(root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], value, root, path)
    if "anyOf" in schema and all(check(s, value, root, path) for s in schema["anyOf"]):
        return [f"{path}: matches no branch"]
    if "const" in schema and value != schema["const"]:
        return [f"{path}: must be {schema['const']!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} not in enum"]
    if "type" in schema and not _type_ok(schema["type"], value):
        return [f"{path}: not of type {schema['type']}"]
    if isinstance(value, dict):
        return _check_object(schema, value, root, path)
    if isinstance(value, list):
        errors = [f"{path}: too long"] if len(value) > schema.get("maxItems", len(value)) else []
        errors += [f"{path}: too short"] if len(value) < schema.get("minItems", 0) else []
        for i, item in enumerate(value):
            errors += check(schema.get("items", True), item, root, f"{path}[{i}]")
        return errors
    if isinstance(value, str):
        return _check_string(schema, value, path)
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = schema.get("minimum", value), schema.get("maximum", value)
        return [] if low <= value <= high else [f"{path}: out of range"]
    return []


def _check_object(
    schema: dict[str, Any], value: dict[str, Any], root: dict[str, Any], path: str
) -> list[str]:
    errors = [f"{path}.{k}: required" for k in schema.get("required", []) if k not in value]
    props = schema.get("properties", {})
    for key, item in value.items():
        sub = props.get(key, schema.get("additionalProperties", True))
        errors += check(sub, item, root, f"{path}.{key}")
        errors += check(schema.get("propertyNames", True), key, root, f"{path}.<{key}>")
    return errors


def _check_string(schema: dict[str, Any], value: str, path: str) -> list[str]:
    errors = []
    if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
        errors.append(f"{path}: bad length")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path}: does not match {schema['pattern']}")
    if "format" in schema and not _format_ok(schema["format"], value):
        errors.append(f"{path}: not a {schema['format']}")
    return errors


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    directory = tmp_path_factory.mktemp("schemas")
    return directory, export_schemas(directory)


def load(directory: Path, rel: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((directory / rel).read_text(encoding="utf-8"))
    return schema


def event_file(cls: type[DomainEvent]) -> str:
    return f"events/{cls.event_name}.v{cls.event_version}.schema.json"


def stored_record(cls: type[DomainEvent]) -> dict[str, Any]:
    """A record exactly as the codec stores it."""
    encoded = encode(
        example_meta(), example_event(cls), case_version=3, prev_hash=GENESIS, sealer=PlainSealer()
    )
    record: dict[str, Any] = json.loads(encoded.data)
    return record


def test_export_writes_one_file_per_event_and_command_and_an_index(
    exported: tuple[Path, list[Path]],
) -> None:
    directory, written = exported
    on_disk = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*.json"))
    assert sorted(p.relative_to(directory).as_posix() for p in written) == on_disk
    expected = {event_file(c) for c in EVENTS} | {f"commands/{n}.schema.json" for n in COMMANDS}
    assert set(on_disk) == expected | {"import/line.schema.json", "index.json"}


def test_index_lists_every_schema_with_its_version(exported: tuple[Path, list[Path]]) -> None:
    directory, _ = exported
    index = load(directory, "index.json")
    listed = {(e["name"], e["version"], e["file"]) for e in index["events"]}
    assert listed == {(c.event_name, c.event_version, event_file(c)) for c in EVENTS}
    assert {c["name"] for c in index["commands"]} == set(COMMANDS)
    assert {"PlacementStarted.v2", "LeefloonGranted.v3"} <= {
        e["stored_type"] for e in index["events"]
    }


def test_every_schema_has_dialect_id_title_and_docstring(
    exported: tuple[Path, list[Path]],
) -> None:
    _, written = exported
    ids = []
    for path in written:
        if path.name == "index.json":
            continue
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["$schema"] == DIALECT
        assert schema["title"]
        assert len(schema["description"]) > 10
        ids.append(schema["$id"])
    assert len(ids) == len(set(ids))


def test_export_is_deterministic(tmp_path: Path, exported: tuple[Path, list[Path]]) -> None:
    _, written = exported
    again = export_schemas(tmp_path)
    for first, second in zip(written, again, strict=True):
        assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("cls", EVENTS, ids=EVENT_IDS)
def test_event_schema_accepts_the_record_the_codec_stores(
    cls: type[DomainEvent], exported: tuple[Path, list[Path]]
) -> None:
    schema = load(exported[0], event_file(cls))
    assert check(schema, stored_record(cls), schema) == []


@pytest.mark.parametrize("cls", EVENTS, ids=EVENT_IDS)
def test_event_schema_refuses_broken_records(
    cls: type[DomainEvent], exported: tuple[Path, list[Path]]
) -> None:
    schema = load(exported[0], event_file(cls))
    record = stored_record(cls)
    assert check(schema, {**record, "version": cls.event_version + 1}, schema)
    assert check(schema, {**record, "data": {**record["data"], "surprise": 1}}, schema)
    assert check(schema, {**record, "office_id": "Brugge"}, schema)
    required = schema["$defs"][f"{cls.event_name}Data"].get("required", [])
    if required:
        data = {k: v for k, v in record["data"].items() if k != required[0]}
        assert check(schema, {**record, "data": data}, schema)


@pytest.mark.parametrize("cls", EVENTS, ids=EVENT_IDS)
def test_personal_fields_are_marked_and_refused_in_plaintext(
    cls: type[DomainEvent], exported: tuple[Path, list[Path]]
) -> None:
    schema = load(exported[0], event_file(cls))
    personal = sorted(cls.personal_fields())
    assert schema["x-personal-fields"] == personal
    if not personal:
        assert schema["properties"]["sealed"] == {
            "type": "null",
            "description": "This event has no personal fields.",
        }
        return
    sealed_fields = schema["$defs"][f"{cls.event_name}Personal"]["properties"]
    assert sorted(sealed_fields) == personal
    assert all(prop["x-personal"] is True for prop in sealed_fields.values())
    record = stored_record(cls)
    leaked = {**record["data"], **example_event(cls).model_dump(mode="json", include=set(personal))}
    assert check(schema, {**record, "data": leaked}, schema)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_schema_accepts_a_valid_body_and_refuses_invalid_ones(
    name: str, exported: tuple[Path, list[Path]]
) -> None:
    schema = load(exported[0], f"commands/{name}.schema.json")
    body = COMMANDS[name].model_validate(example_body(COMMANDS[name])).model_dump(mode="json")
    assert check(schema, body, schema) == []
    assert check(schema, {**body, "surprise": 1}, schema)
    assert check(schema, {k: v for k, v in body.items() if k != "command_id"}, schema)
    assert check(schema, {**body, "occurred_on": "3 maart"}, schema)
    assert schema["x-produces"] == list(COMMANDS[name].produces)


def test_command_schema_marks_personal_fields(exported: tuple[Path, list[Path]]) -> None:
    schema = load(exported[0], "commands/RegisterPerson.schema.json")
    assert "family_name" in schema["x-personal-fields"]
    assert schema["properties"]["family_name"]["x-personal"] is True
    assert {"family_name", "national_number", "person_ref"} <= set(schema["required"])


def test_money_in_the_schema_is_an_integer_never_a_number(
    exported: tuple[Path, list[Path]],
) -> None:
    schema = load(exported[0], "commands/GrantLeefloon.schema.json")
    assert schema["properties"]["monthly_amount_cents"]["type"] == "integer"
    body = example_body(COMMANDS["GrantLeefloon"], monthly_amount_cents=1314.2)
    assert check(schema, body, schema)


@pytest.mark.parametrize("bad", ["1.234", "-1", "veel"])
def test_decimal_hours_text_is_checked_like_the_model_checks_it(
    bad: str, exported: tuple[Path, list[Path]]
) -> None:
    schema = load(exported[0], "commands/StartPlacement.schema.json")
    body = example_body(COMMANDS["StartPlacement"], hours_per_week=bad)
    assert check(schema, body, schema)
    with pytest.raises(ValueError, match="hours_per_week"):
        COMMANDS["StartPlacement"].model_validate(body)
    fine = example_body(COMMANDS["StartPlacement"], hours_per_week="30.4")
    assert check(schema, fine, schema) == []
    assert StartPlacement.model_validate(fine).hours_per_week == Decimal("30.4")
