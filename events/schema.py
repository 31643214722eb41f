"""JSON Schema export of stored event records and command bodies, for offices' IT teams."""

from __future__ import annotations

import copy
import inspect
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, create_model

from events.base import DomainEvent
from events.envelope import EventMeta
from events.registry import registry

if TYPE_CHECKING:
    from services.commands.base import Command

DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
DEFAULT_BASE_URI: Final = "urn:doorstroom:schemas:"
LINE_FILE: Final = "import/line.schema.json"
_HASH: Final = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_DECIMAL_TEXT: Final = r"^\d{1,5}(\.\d{1,2})?$"
_SEALED_BOX: Final = {"type": "object", "additionalProperties": {"type": "string"}}

Schema = dict[str, Any]


def _doc(model: type[BaseModel]) -> str:
    return inspect.cleandoc(model.__doc__ or "")


def _head(rel: str, title: str, description: str, base_uri: str) -> Schema:
    return {"$schema": DIALECT, "$id": base_uri + rel, "title": title, "description": description}


def event_schema(cls: type[DomainEvent], base_uri: str = DEFAULT_BASE_URI) -> Schema:
    """The stored record of ``cls`` as ``events.codec`` writes it.

    ``data`` holds the public fields only (a personal field there is invalid); ``sealed``
    holds the personal fields encrypted with the person's key. Their plaintext shape is in
    ``$defs/<Event>Personal``, every field marked ``x-personal: true``.
    """
    name, version = cls.event_name, cls.event_version
    wrapper = create_model(f"{name}Record", __base__=EventMeta, data=(cls, ...))
    body = wrapper.model_json_schema(ref_template="#/$defs/{model}")
    defs: Schema = body.setdefault("$defs", {})
    payload = defs.pop(cls.__name__)
    personal = sorted(cls.personal_fields())
    public = copy.deepcopy(payload)
    public["properties"] = {
        k: v for k, v in payload["properties"].items() if k not in cls.personal_fields()
    }
    public["required"] = [r for r in payload.get("required", []) if r not in personal]
    defs[f"{name}Data"] = public
    sealed: Schema = {"type": "null", "description": "This event has no personal fields."}
    if personal:
        defs[f"{name}Personal"] = {
            "type": "object",
            "description": f"Plaintext of `sealed`: the personal fields of {name}.",
            "properties": {k: payload["properties"][k] for k in personal},
            "additionalProperties": False,
        }
        sealed = {
            "anyOf": [_SEALED_BOX, {"type": "null"}],
            "description": f"Personal fields sealed with the person's key; the plaintext is "
            f"#/$defs/{name}Personal. Null when no personal field was given; after erasure "
            "it can no longer be opened.",
        }
    props = body["properties"]
    props.update(
        type={"const": name},
        version={"const": version},
        case_version={"type": "integer", "minimum": 1},
        data={"$ref": f"#/$defs/{name}Data"},
        sealed=sealed,
        prev_hash=_HASH,
        hash=_HASH,
    )
    body["required"] = [*body["required"], "type", "version", "case_version", "sealed"]
    body["required"] += ["prev_hash", "hash"]
    rel = f"events/{name}.v{version}.schema.json"
    head = _head(rel, f"{name} v{version}", _doc(cls), base_uri)
    extra = {"x-event-name": name, "x-event-version": version, "x-area": cls.area}
    _tighten_decimals(body)
    return {**head, **extra, "x-personal-fields": personal, **_without_title(body)}


def command_schema(cls: type[Command], base_uri: str = DEFAULT_BASE_URI) -> Schema:
    """The JSON body of a command (``services.commands``)."""
    name = cls.command_name
    body = cls.model_json_schema(ref_template="#/$defs/{model}")
    _borrow_docs(body["properties"], [*(registry().get(e) for e in cls.produces), EventMeta])
    personal = sorted(k for k, v in body["properties"].items() if v.get("x-personal"))
    head = _head(f"commands/{name}.schema.json", name, _doc(cls), base_uri)
    extra = {
        "x-command-name": name,
        "x-produces": list(cls.produces),
        "x-personal-fields": personal,
    }
    _tighten_decimals(body)
    return {**head, **extra, **_without_title(body)}


def import_line_schema(base_uri: str = DEFAULT_BASE_URI) -> Schema:
    """One line of a ``doorstroom import`` file: a command name, its body and the actor."""
    from services.importer import ImportLine, line_schema

    body = line_schema(base_uri)
    head = _head(LINE_FILE, "Import line", _doc(ImportLine), base_uri)
    return {**head, **_without_title(body)}


def _borrow_docs(props: Schema, sources: list[type[BaseModel]]) -> None:
    """Give command fields the description and examples of the same field of their event."""
    for name, prop in props.items():
        info = next((m.model_fields[name] for m in sources if name in m.model_fields), None)
        if info is None:
            continue
        if "description" not in prop and info.description:
            prop["description"] = info.description
        if "examples" not in prop and info.examples:
            prop["examples"] = list(info.examples)


def _without_title(body: Schema) -> Schema:
    return {k: v for k, v in body.items() if k not in ("title", "description")}


def _tighten_decimals(node: Any) -> None:
    """Give pydantic's bare string branch of a decimal (number or string) a number pattern.

    Every decimal of the contract is a non-negative number of hours with at most 2 places.
    """
    if isinstance(node, list):
        for item in node:
            _tighten_decimals(item)
    elif isinstance(node, dict):
        branches = node.get("anyOf", [])
        kinds = [b.get("type") for b in branches if isinstance(b, dict)]
        if "number" in kinds and {"type": "string"} in branches:
            branches[branches.index({"type": "string"})] = {
                "type": "string",
                "pattern": _DECIMAL_TEXT,
            }
        for value in node.values():
            _tighten_decimals(value)


def _write(directory: Path, rel: str, schema: Schema) -> Path:
    path = directory / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def export_schemas(directory: Path, base_uri: str = DEFAULT_BASE_URI) -> list[Path]:
    """Write one schema per event and per command, and ``index.json``; return the paths."""
    from events.catalogue import EVENTS
    from services.commands import COMMANDS

    registry()
    written: list[Path] = []
    index: Schema = {"events": [], "commands": []}
    for cls in sorted(EVENTS, key=lambda c: c.event_name):
        schema = event_schema(cls, base_uri)
        rel = f"events/{cls.event_name}.v{cls.event_version}.schema.json"
        written.append(_write(directory, rel, schema))
        index["events"].append(
            {
                "name": cls.event_name,
                "version": cls.event_version,
                "stored_type": cls.stored_type(),
                "area": cls.area,
                "file": rel,
                "$id": schema["$id"],
                "personal_fields": schema["x-personal-fields"],
            }
        )
    for name, command in COMMANDS.items():
        schema = command_schema(command, base_uri)
        rel = f"commands/{name}.schema.json"
        written.append(_write(directory, rel, schema))
        index["commands"].append(
            {"name": name, "file": rel, "$id": schema["$id"], "produces": schema["x-produces"]}
        )
    written.append(_write(directory, LINE_FILE, import_line_schema(base_uri)))
    index["import_line"] = {"file": LINE_FILE, "$id": base_uri + LINE_FILE}
    written.append(_write(directory, "index.json", index))
    return written
