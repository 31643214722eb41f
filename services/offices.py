"""The offices (OCMWs) Doorstroom knows, by NIS code; writes for any other office are refused."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter

from events.envelope import OfficeId

_OFFICE_ID: TypeAdapter[str] = TypeAdapter(OfficeId)

BUILT_IN: Mapping[str, str] = {
    "31004": "OCMW Blankenberge",
    "11016": "OCMW Essen",
    "34027": "OCMW Menen",
}


class UnknownOfficeError(ValueError):
    """A write or read for an office that is not registered."""

    def __init__(self, office_id: str) -> None:
        super().__init__(f"office_id {office_id!r} is not a known office (NIS code)")
        self.office_id = office_id


@dataclass(frozen=True)
class Offices:
    """Known offices: NIS code -> name."""

    names: Mapping[str, str]

    @classmethod
    def load(cls, extra_file: Path | None = None) -> Offices:
        names = dict(BUILT_IN)
        if extra_file is not None:
            data = json.loads(extra_file.read_text())
            for code, name in data.items():
                _OFFICE_ID.validate_python(code)
                names[code] = str(name)
        return cls(names)

    def __contains__(self, office_id: object) -> bool:
        return office_id in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def require(self, office_id: str) -> str:
        if office_id not in self.names:
            raise UnknownOfficeError(office_id)
        return office_id
