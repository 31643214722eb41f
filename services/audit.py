"""Tamper evidence: export the stream as JSONL and verify every case's hash chain.

``verify`` names each event that was changed (its hash does not match its content),
removed (a case version or stream sequence is missing), reordered (a case version stored
after a later one) or whose chain link is broken.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import orjson
from nats.aio.client import Client as NATS

from events.codec import GENESIS, record_hash
from services.jsread import read_filtered


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One message as exported: stream sequence, subject and the parsed record."""

    seq: int
    subject: str
    record: dict[str, Any] | None
    error: str | None = None

    @property
    def label(self) -> str:
        if self.record is None:
            return f"seq {self.seq}"
        r = self.record
        return (
            f"event {r.get('event_id')} ({r.get('type')}, case {r.get('case_id')} "
            f"version {r.get('case_version')}, seq {self.seq})"
        )


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # altered | removed | reordered | chain | malformed | duplicate
    message: str
    event_id: str | None = None
    seq: int | None = None

    def __str__(self) -> str:
        return f"{self.kind.upper()}: {self.message}"


@dataclass
class AuditReport:
    events: int = 0
    cases: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _parse(seq: int, subject: str, data: bytes) -> StoredRecord:
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return StoredRecord(seq, subject, None, f"not JSON: {exc}")
    if not isinstance(record, dict):
        return StoredRecord(seq, subject, None, "not a JSON object")
    return StoredRecord(seq, subject, record)


async def stream_records(nc: NATS, stream: str, subject_filter: str) -> AsyncIterator[StoredRecord]:
    async for raw in read_filtered(nc, stream, subject_filter):
        yield _parse(raw.seq, raw.subject, raw.data)


def export_line(rec: StoredRecord) -> bytes:
    return orjson.dumps({"seq": rec.seq, "subject": rec.subject, "record": rec.record}) + b"\n"


def read_export(path: Path) -> Iterator[StoredRecord]:
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
                yield StoredRecord(int(row["seq"]), str(row["subject"]), row["record"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                yield StoredRecord(-number, "", None, f"line {number} is not an export row: {exc}")


class Verifier:
    """Feed records in stored order; ``finish`` returns the report."""

    def __init__(self) -> None:
        self.report = AuditReport()
        self._by_case: dict[str, dict[int, StoredRecord]] = defaultdict(dict)
        self._max_version: dict[str, StoredRecord] = {}
        self._hash_ok: dict[str, bool] = {}
        self._last_seq: int | None = None
        self._seqs: list[int] = []

    def _add(self, kind: str, message: str, rec: StoredRecord | None = None) -> None:
        event_id = None if rec is None or rec.record is None else str(rec.record.get("event_id"))
        self.report.findings.append(
            Finding(kind, message, event_id, None if rec is None else rec.seq)
        )

    def feed(self, rec: StoredRecord) -> None:
        self.report.events += 1
        if rec.seq > 0:
            if self._last_seq is not None and rec.seq <= self._last_seq:
                self._add(
                    "reordered", f"{rec.label} comes after stream sequence {self._last_seq}", rec
                )
            self._seqs.append(rec.seq)
            self._last_seq = rec.seq if self._last_seq is None else max(rec.seq, self._last_seq)
        if rec.record is None:
            self._add("malformed", f"{rec.label}: {rec.error}", rec)
            return
        r = rec.record
        try:
            case, version, stored_hash = str(r["case_id"]), int(r["case_version"]), str(r["hash"])
        except (KeyError, TypeError, ValueError) as exc:
            self._add("malformed", f"{rec.label}: missing or bad field {exc}", rec)
            return
        ok = record_hash(r) == stored_hash
        self._hash_ok[stored_hash] = ok
        if not ok:
            self._add("altered", f"{rec.label}: content does not match its hash", rec)
        seen = self._by_case[case]
        if version in seen:
            self._add("duplicate", f"{rec.label}: case version {version} stored twice", rec)
            return
        top = self._max_version.get(case)
        if top is not None and top.record is not None and int(top.record["case_version"]) > version:
            self._add(
                "reordered",
                f"{rec.label} is stored after {top.label}, which has a later case version",
                rec,
            )
        if top is None or (top.record is not None and int(top.record["case_version"]) < version):
            self._max_version[case] = rec
        seen[version] = rec

    def finish(self) -> AuditReport:
        self.report.cases = len(self._by_case)
        if self._seqs:
            present = set(self._seqs)
            missing = [s for s in range(min(present), max(present) + 1) if s not in present]
            for start, end in _ranges(missing):
                span = str(start) if start == end else f"{start}..{end}"
                self._add("removed", f"stream sequence {span} is missing")
        for case, versions in self._by_case.items():
            last = max(versions)
            for v in range(1, last + 1):
                if v not in versions:
                    before, after = versions.get(v - 1), _next_present(versions, v)
                    where = " ".join(
                        part
                        for part in (
                            f"after {before.label}" if before else "",
                            f"before {after.label}" if after else "",
                        )
                        if part
                    )
                    self._add("removed", f"case {case} version {v} is missing {where}".strip())
            for v in sorted(versions):
                rec = versions[v]
                assert rec.record is not None
                prev = versions.get(v - 1)
                expected = (
                    GENESIS
                    if v == 1
                    else (str(prev.record["hash"]) if prev and prev.record else None)
                )
                if expected is None:
                    continue  # the missing predecessor is already reported
                if rec.record.get("prev_hash") != expected:
                    self._add(
                        "chain",
                        f"{rec.label}: prev_hash does not match the hash of version {v - 1}",
                        rec,
                    )
        return self.report


def _ranges(values: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for v in values:
        if out and out[-1][1] == v - 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return out


def _next_present(versions: dict[int, StoredRecord], v: int) -> StoredRecord | None:
    later = [k for k in versions if k > v]
    return versions[min(later)] if later else None


def verify(records: Iterable[StoredRecord]) -> AuditReport:
    verifier = Verifier()
    for rec in records:
        verifier.feed(rec)
    return verifier.finish()


def print_report(report: AuditReport, out: TextIO) -> None:
    for finding in report.findings:
        out.write(f"{finding}\n")
    status = "OK" if report.ok else f"FAILED: {len(report.findings)} finding(s)"
    out.write(f"audit: {report.events} events in {report.cases} cases: {status}\n")
