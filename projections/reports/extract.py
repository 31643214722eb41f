"""The ``rf_events`` row of one stored record, without decoding it into an event when it
need not be.

A stored record of the event's current version already holds what a fact row needs: the
envelope fields as canonical JSON and ``data``, the public payload (personal fields are in
``sealed``). :func:`fact_row_of` takes them from the parsed JSON and checks each value it
copies to be exactly what pydantic would have read and written back (canonical UUIDs, ISO
dates, a UTC time, the office code, the payload's field names), at a fifth of the cost of
``decode`` plus ``model_dump_json``. The payload is the same JSON value as the full way's,
its keys in the stored order (readers parse it). Anything else - an older version
(upcasters), a value in another form, a missing field, a type the subject does not name -
goes the full way (``decode``, then ``fact_row``), so it gives the same row or stops with
the same error.

The payload's values are not validated again: the writer validated them, and the record is
sealed by its hash chain. The envelope fields a report does not copy (actor, evidence, ...)
are only required to be present.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Final

import orjson

from events.codec import decode
from events.envelope import EventMeta
from events.registry import EventRegistry
from projections.reports.facts import FactRow, fact_row

RETRACTED: Final = "EventRetracted"
_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_OFFICE: Final = re.compile(r"[0-9]{5}")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UTC: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?Z")
_CODE: Final = re.compile(r"[A-Za-z0-9_.:/-]{1,64}")
_MIN_DAY: Final = "2000-01-01"
_REQUIRED: Final = frozenset(
    {"type", "version", "data", "case_version", "prev_hash", "hash"}
    | {name for name, info in EventMeta.model_fields.items() if info.is_required()}
)


@lru_cache(maxsize=1024)
def _shape(registry: EventRegistry, name: str) -> tuple[int, frozenset[str]] | None:
    """The current version of ``name`` and its public fields (a stored payload's keys)."""
    if not registry.knows(name):
        return None
    cls = registry.get(name)
    return cls.event_version, frozenset(cls.model_fields) - cls.personal_fields()


def fact_row_of(
    data: bytes,
    seq: int,
    subject: str,
    name: str,
    registry: EventRegistry,
    cutoff: datetime | None,
) -> FactRow | None:
    """The fact row of the record ``data`` at ``seq`` on ``subject`` (of event ``name``), or
    None when it was recorded on or after ``cutoff``. Raises like the engine's decoding on a
    record it cannot read.
    """
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError:
        record = None
    if type(record) is dict:
        fast = _fast(record, seq, name, registry, cutoff)
        if fast is not None:
            return fast or None
    rec = decode(record if type(record) is dict else data, registry, seq=seq, reveal=False)
    if rec.name != name:
        raise ValueError(f"subject {subject} carries a {rec.name} record")
    if cutoff is not None and rec.meta.recorded_at >= cutoff:
        return None
    return fact_row(rec)


def _current(record: dict[str, Any], name: str, registry: EventRegistry) -> bool:
    """Whether ``record`` is a whole record of the current version of ``name`` whose payload
    has exactly the event's public fields."""
    shape = _shape(registry, name)
    if shape is None or record.get("type") != name or not record.keys() >= _REQUIRED:
        return False
    version, payload = record["version"], record["data"]
    return (
        type(version) is int
        and version == shape[0]
        and type(payload) is dict
        and type(record["case_version"]) is int
        and payload.keys() == shape[1]
    )


def _fast(
    record: dict[str, Any],
    seq: int,
    name: str,
    registry: EventRegistry,
    cutoff: datetime | None,
) -> FactRow | tuple[()] | None:
    """The row from the parsed record, ``()`` when it is after the cut-off, or None when the
    record is not plainly of the current version (the caller then decodes it fully)."""
    if not _current(record, name, registry):
        return None
    payload: dict[str, Any] = record["data"]
    event_id, case_id, person = record["event_id"], record["case_id"], record.get("person_ref")
    occurred, recorded = record["occurred_on"], record["recorded_at"]
    office, rule_version = record["office_id"], record.get("rule_version")
    corrects = record.get("corrects")
    voids = payload.get("retracted_event_id") if name == RETRACTED else corrects
    try:  # a value of another JSON type than text raises TypeError in the matches
        if not (
            _UUID.fullmatch(event_id)
            and _UUID.fullmatch(case_id)
            and (person is None or _UUID.fullmatch(person))
            and (corrects is None or _UUID.fullmatch(corrects))
            # A retraction names its target and corrects nothing (else decode says why not).
            and (name != RETRACTED or (corrects is None and voids is not None))
            and (voids is None or _UUID.fullmatch(voids))
            and _OFFICE.fullmatch(office)
            and (rule_version is None or _CODE.fullmatch(rule_version))
            and _DATE.fullmatch(occurred)
            and _UTC.fullmatch(recorded)
            # Not after the recording date: the UTC date is never after Brussels' (else decode).
            and _MIN_DAY <= occurred <= recorded[:10]
        ):
            return None
        date.fromisoformat(occurred)
        at = datetime.fromisoformat(recorded)
    except (TypeError, ValueError):
        return None
    if cutoff is not None and at >= cutoff:
        return ()
    return (
        seq,
        case_id,
        event_id,
        name,
        occurred,
        at.isoformat(),
        office,
        person,
        rule_version,
        # The same JSON value as ``model_dump_json``'s (keys in another order).
        orjson.dumps(payload).decode(),
        voids,
    )
