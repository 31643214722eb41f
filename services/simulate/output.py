"""The simulation's files: one JSONL per office, phase and hop, and the order to import them.

A file holds one office's commands recorded in one phase (a period of ``phase_months``
months) by cases that were transferred ``hop`` times before. Importing the files in the
manifest's order (phase, then hop) never lets a command come before an earlier one of its
case: recording dates and hops only grow along a case, and within one phase and hop a case
belongs to exactly one office. So every office imports only its own cases, with
``doorstroom import FILE --office X``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import orjson

from services.simulate.cases import Recorded

FLUSH_LINES: Final = 2_000
Key = tuple[int, int, str]  # (phase, hop, office)


def phase_of(first: date, on: date, phase_months: int) -> int:
    return ((on.year - first.year) * 12 + on.month - first.month) // phase_months


def line(record: Recorded) -> bytes:
    """One import line (``import/line.schema.json``)."""
    command = record.command
    return orjson.dumps(
        {
            "command": command.command_name,
            "body": command.model_dump(mode="json"),
            "actor": record.actor.model_dump(mode="json"),
        }
    )


@dataclass
class Output:
    """Buffers lines per file and appends them in order; counts what was written."""

    directory: Path
    first: date
    phase_months: int
    lines: Counter[Key] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    late: int = 0
    events_estimate: int = 0
    _buffers: dict[Key, list[bytes]] = field(default_factory=dict)

    def path(self, key: Key) -> Path:
        phase, hop, office = key
        return self.directory / f"p{phase:02d}-h{hop}" / f"{office}.jsonl"

    def add(self, record: Recorded) -> None:
        phase = phase_of(self.first, record.recorded_on, self.phase_months)
        key = (phase, record.hop, record.office)
        buffer = self._buffers.setdefault(key, [])
        buffer.append(line(record))
        self.lines[key] += 1
        self.kinds[record.command.command_name] += 1
        self.late += record.late
        self.events_estimate += 1 + (record.command.command_name == "RecordOutflow")
        if len(buffer) >= FLUSH_LINES:
            self._flush(key)

    def _flush(self, key: Key) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as out:
            out.write(b"\n".join(self._buffers.pop(key)) + b"\n")

    def close(self) -> list[dict[str, Any]]:
        """Write what is left; the files in import order."""
        for key in list(self._buffers):
            self._flush(key)
        return [
            {
                "file": str(self.path(key).relative_to(self.directory)),
                "office": key[2],
                "phase": key[0],
                "hop": key[1],
                "lines": self.lines[key],
            }
            for key in sorted(self.lines)
        ]
