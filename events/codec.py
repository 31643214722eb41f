"""Stored form of an event: JSON with sealed personal fields and a per-case hash chain.

A stored record (a JSON object) is the envelope, ``data`` (the public payload), ``sealed``
(the personal fields, encrypted with the person's key) and ``prev_hash``/``hash``. ``hash`` is
the SHA-256 of the canonical JSON of the record without ``hash``; ``prev_hash`` is the hash of
the case's previous event (``GENESIS`` for the first), so any change, removal or reordering
shows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Protocol
from uuid import UUID

import orjson

from events.base import DomainEvent
from events.envelope import EventMeta
from events.registry import EventRegistry

GENESIS: Final = "0" * 64
META_FIELDS: Final = tuple(EventMeta.model_fields)


class Sealer(Protocol):
    """Encrypts personal fields with a per-person key kept outside the stream."""

    def seal(self, person_ref: UUID, plaintext: bytes, aad: bytes) -> dict[str, str]: ...

    def open(self, sealed: dict[str, str], aad: bytes) -> bytes | None:
        """The plaintext, or None when the person's key was destroyed (erased)."""
        ...


class CodecError(ValueError):
    """A stored message that is not a valid Doorstroom event record."""


_CANONICAL: Final = orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def _decimal_as_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not stored in events")


def canonical(record: dict[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, compact, UTF-8; UUIDs, dates, UTC times ('Z'), enums and
    decimals serialised exactly as pydantic's JSON mode does, so a record built from Python
    values and one parsed back from JSON canonicalise to the same bytes."""
    return orjson.dumps(record, option=_CANONICAL, default=_decimal_as_text)


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 over the canonical record without its own ``hash`` field."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


@dataclass(frozen=True, slots=True)
class Encoded:
    """One event ready to publish."""

    event_id: UUID
    event_name: str
    data: bytes
    hash: str
    event_id_text: str


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as read back from the stream."""

    meta: EventMeta
    event: DomainEvent
    stored_type: str
    case_version: int
    prev_hash: str
    hash: str
    seq: int = 0
    erased: bool = False
    sealed: bool = False

    @property
    def name(self) -> str:
        return self.event.event_name


def encode(
    meta: EventMeta,
    event: DomainEvent,
    *,
    case_version: int,
    prev_hash: str,
    sealer: Sealer | None,
) -> Encoded:
    """Build the canonical stored record of one event."""
    public, personal = event.public_and_personal("python")
    sealed: dict[str, str] | None = None
    present = {k: v for k, v in personal.items() if v is not None}
    if present:
        if meta.person_ref is None:
            raise CodecError(
                f"{event.event_name}: fields {sorted(present)} are personal data and need "
                "the envelope's person_ref"
            )
        if sealer is None:
            raise CodecError(f"{event.event_name}: personal data but no key vault configured")
        sealed = sealer.seal(meta.person_ref, canonical(present), meta.event_id.bytes)
    record: dict[str, Any] = meta.model_dump()
    record.update(
        type=event.event_name,
        version=event.event_version,
        case_version=case_version,
        data=public,
        sealed=sealed,
        prev_hash=prev_hash,
    )
    body = canonical(record)
    digest = hashlib.sha256(body).hexdigest()
    # The hash goes last; readers verify by re-canonicalising the record without it.
    data = b"".join((body[:-1], b',"hash":"', digest.encode(), b'"}'))
    return Encoded(meta.event_id, event.event_name, data, digest, str(meta.event_id))


def parse(data: bytes) -> dict[str, Any]:
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CodecError(f"not JSON: {exc}") from exc
    if not isinstance(record, dict):
        raise CodecError("record is not a JSON object")
    return record


def decode(
    data: bytes | dict[str, Any],
    registry: EventRegistry,
    *,
    seq: int = 0,
    sealer: Sealer | None = None,
    reveal: bool = False,
) -> RecordedEvent:
    """Read a stored record into the current event version.

    With ``reveal`` and a sealer, personal fields are decrypted; if the person's key was
    destroyed they read as None and ``erased`` is set. Without ``reveal`` they read as None
    and ``sealed`` is set (projections never need them).
    """
    record = parse(data) if isinstance(data, bytes) else data
    try:
        name, version = record["type"], int(record["version"])
        meta = EventMeta.model_validate({k: record.get(k) for k in META_FIELDS})
        payload = dict(record["data"])
        case_version, prev_hash, digest = (
            int(record["case_version"]),
            str(record["prev_hash"]),
            str(record["hash"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"malformed event record at seq {seq}: {exc}") from exc
    sealed_box = record.get("sealed")
    erased = is_sealed = False
    if sealed_box:
        opened = None
        if reveal and sealer is not None:
            opened = sealer.open(sealed_box, meta.event_id.bytes)
            erased = opened is None
        else:
            is_sealed = True
        if opened is not None:
            payload.update(orjson.loads(opened))
    event_cls = registry.get(name)
    for field in event_cls.personal_fields():
        payload.setdefault(field, None)
    event = registry.load(name, version, payload)
    return RecordedEvent(
        meta=meta,
        event=event,
        stored_type=f"{name}.v{version}",
        case_version=case_version,
        prev_hash=prev_hash,
        hash=digest,
        seq=seq,
        erased=erased,
        sealed=is_sealed,
    )
