"""Tamper evidence: the hash chain names altered, removed and reordered events."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson

from services.audit import StoredRecord, export_line, read_export, stream_records, verify
from services.embedded import NatsServer
from services.store import CaseHead
from tests.support.sample_events import SAMPLE_REGISTRY, noted
from tests.support.stack import store_on


async def _exported(nats_server: NatsServer, tmp_path: Path) -> list[StoredRecord]:
    async with store_on(nats_server.url, tmp_path, SAMPLE_REGISTRY) as (store, _):
        for _ in range(3):
            case = uuid4()
            head = CaseHead(case)
            for n in range(1, 6):
                head = (await store.append(head, [noted(case, n)])).head
        return [
            rec async for rec in stream_records(store.nc, store.stream, store.subjects.all_events)
        ]


async def test_audit_passes_on_an_untouched_stream(nats_server: NatsServer, tmp_path: Path) -> None:
    records = await _exported(nats_server, tmp_path)
    report = verify(records)
    assert report.ok, report.findings
    assert (report.events, report.cases) == (15, 3)


async def test_audit_names_the_altered_removed_and_swapped_events_in_an_export(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    records = await _exported(nats_server, tmp_path)
    export = tmp_path / "export.jsonl"
    export.write_bytes(b"".join(export_line(r) for r in records))
    rows = [orjson.loads(line) for line in export.read_bytes().splitlines()]
    by_case: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_case.setdefault(row["record"]["case_id"], []).append(row)
    case_a, case_b, case_c = list(by_case.values())
    altered = case_a[2]
    altered["record"]["data"]["n"] = 99
    removed = case_b[1]
    rows.remove(removed)
    first, second = case_c[2], case_c[3]
    i, j = rows.index(first), rows.index(second)
    rows[i], rows[j] = rows[j], rows[i]
    export.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))

    report = verify(read_export(export))
    assert not report.ok
    text = "\n".join(str(f) for f in report.findings)
    assert {f.kind for f in report.findings} >= {"altered", "removed", "reordered"}
    altered_ids = {f.event_id for f in report.findings if f.kind == "altered"}
    assert altered_ids == {altered["record"]["event_id"]}
    removed_msgs = [f.message for f in report.findings if f.kind == "removed"]
    assert any(f"version {removed['record']['case_version']} is missing" in m for m in removed_msgs)
    assert any(str(removed["seq"]) in m for m in removed_msgs)
    reordered = [f for f in report.findings if f.kind == "reordered"]
    assert {f.event_id for f in reordered} == {first["record"]["event_id"]}
    assert second["record"]["event_id"] in text
    # Nothing in the untouched parts is reported.
    untouched = {r["record"]["event_id"] for r in case_a if r is not altered}
    assert not untouched & {f.event_id for f in report.findings}


async def test_changing_prev_hash_of_an_event_breaks_its_hash_and_chain(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    records = await _exported(nats_server, tmp_path)
    rec = records[4]
    assert rec.record is not None
    forged = dict(rec.record, prev_hash="f" * 64)
    records[4] = StoredRecord(rec.seq, rec.subject, forged)
    kinds = {f.kind for f in verify(records).findings if f.event_id == forged["event_id"]}
    assert kinds == {"altered", "chain"}


def test_a_garbled_line_is_reported_as_malformed(tmp_path: Path) -> None:
    export = tmp_path / "bad.jsonl"
    export.write_bytes(b'{"seq": 1, "subject": "ds.ev.x", "record": {"case_id": 1}}\nnot json\n')
    report = verify(read_export(export))
    assert [f.kind for f in report.findings] == ["malformed", "malformed"]
