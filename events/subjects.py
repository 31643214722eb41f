"""The subject scheme: ``<prefix>.ev.<office>.<case>.<EventName>``; no personal data anywhere.

- ``<prefix>`` defaults to ``ds`` (setting DOORSTROOM_SUBJECT_PREFIX).
- ``<office>`` is the NIS code of the OCMW that owns the case when the event is written.
- ``<case>`` is the random case UUID.
- ``<EventName>`` is the stored event name without version, so projections can filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Subjects:
    prefix: str = "ds"

    @property
    def all_events(self) -> str:
        return f"{self.prefix}.ev.>"

    def event(self, office_id: str, case_id: UUID | str, event_name: str) -> str:
        return f"{self.prefix}.ev.{office_id}.{case_id}.{event_name}"

    def case(self, case_id: UUID | str) -> str:
        """Filter matching every event of one case, whichever office wrote it."""
        return f"{self.prefix}.ev.*.{case_id}.*"

    def office(self, office_id: str) -> str:
        """Filter matching every event written by one office."""
        return f"{self.prefix}.ev.{office_id}.>"

    def event_type(self, event_name: str) -> str:
        return f"{self.prefix}.ev.*.*.{event_name}"

    def command(self, office_id: str, command_name: str = "*") -> str:
        return f"{self.prefix}.cmd.{office_id}.{command_name}"

    def parse_event(self, subject: str) -> tuple[str, str, str]:
        """(office, case, event name) of an event subject."""
        parts = subject.split(".")
        if len(parts) != 5 or parts[0] != self.prefix or parts[1] != "ev":
            raise ValueError(f"not an event subject: {subject!r}")
        return parts[2], parts[3], parts[4]
