"""The access log: every read of decrypted personal data, kept for the data protection officer.

Each time a user is shown personal fields in plaintext (the case timeline of a role that
reveals them), one row goes into the table ``personal_data_reads`` of the vault database
(``DOORSTROOM_VAULT_DB``), next to the person keys and the API tokens and not in the
disposable read-model database: who (user, role, office), when, which case, which persons
and which of their fields, and through which endpoint for which purpose. The row is written
before the data leave the service: a read that cannot be logged is not answered.
``doorstroom access-log --person X | --case Y`` lists the rows.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import orjson

from events.base import Role
from services.db import Database

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS personal_data_reads (
    read_id {serial},
    read_at TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    office_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    persons TEXT NOT NULL,
    fields TEXT NOT NULL
)
"""
_INDEXES: Final = (
    "CREATE INDEX IF NOT EXISTS personal_data_reads_case ON personal_data_reads (case_id)",
    "CREATE TABLE IF NOT EXISTS personal_data_read_persons ("
    " read_id BIGINT NOT NULL, person_ref TEXT NOT NULL, PRIMARY KEY (person_ref, read_id))",
)


@dataclass(frozen=True, slots=True)
class PersonalRead:
    """One read of decrypted personal data: who, when, which case, persons and fields."""

    read_at: datetime
    user_id: str
    role: Role
    office_id: str
    case_id: UUID
    purpose: str  # the endpoint, e.g. "GET /cases/{case_id}/timeline"
    persons: tuple[UUID, ...]
    fields: tuple[str, ...]  # the personal fields shown, sorted, without values

    def as_dict(self) -> dict[str, Any]:
        return {
            "read_at": self.read_at.isoformat(),
            "user_id": self.user_id,
            "role": self.role.value,
            "office_id": self.office_id,
            "case_id": str(self.case_id),
            "purpose": self.purpose,
            "persons": [str(p) for p in self.persons],
            "fields": list(self.fields),
        }


class AccessLog:
    """Append and query ``personal_data_reads`` in SQLite or PostgreSQL.

    Rows are only ever inserted; nothing in Doorstroom updates or deletes them.
    """

    def __init__(self, url: str) -> None:
        self._db = Database.connect(url)
        self._lock = threading.Lock()
        serial = "BIGSERIAL PRIMARY KEY" if self._db.postgres else "INTEGER PRIMARY KEY"
        self._run([(_SCHEMA.format(serial=serial), ()), *((s, ()) for s in _INDEXES)])

    def close(self) -> None:
        self._db.close()

    def _run(self, statements: Sequence[tuple[str, tuple[object, ...]]]) -> list[Any]:
        """Run the statements in one transaction; roll back on failure."""
        results: list[Any] = []
        with self._lock:
            try:
                self._db.begin()
                for statement, params in statements:
                    cursor = self._db.execute(statement, params)
                    results.append(cursor.fetchall() if cursor.description else cursor.rowcount)
                self._db.commit()
            except Exception:
                with contextlib.suppress(Exception):
                    self._db.rollback()
                raise
        return results

    def record(self, read: PersonalRead) -> None:
        """Store one read (and its persons, for the lookup by person) in one transaction."""
        with self._lock:
            try:
                self._db.begin()
                cursor = self._db.execute(
                    "INSERT INTO personal_data_reads (read_at, user_id, role, office_id, case_id,"
                    " purpose, persons, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING read_id",
                    (
                        read.read_at.isoformat(),
                        read.user_id,
                        read.role.value,
                        read.office_id,
                        str(read.case_id),
                        read.purpose,
                        orjson.dumps([str(p) for p in read.persons]).decode(),
                        orjson.dumps(list(read.fields)).decode(),
                    ),
                )
                read_id = cursor.fetchone()[0]
                for person in read.persons:
                    self._db.execute(
                        "INSERT INTO personal_data_read_persons (read_id, person_ref)"
                        " VALUES (?, ?)",
                        (read_id, str(person)),
                    )
                self._db.commit()
            except Exception:
                with contextlib.suppress(Exception):
                    self._db.rollback()
                raise

    def reads(self, *, person: UUID | None = None, case: UUID | None = None) -> list[PersonalRead]:
        """The reads of ``person``'s data and/or of ``case``, oldest first (all without both)."""
        person_ref = str(person) if person is not None else None
        case_id = str(case) if case is not None else None
        (rows,) = self._run([(_QUERY, (case_id, case_id, person_ref, person_ref))])
        return [_read(row) for row in rows]


_QUERY: Final = """
SELECT read_at, user_id, role, office_id, case_id, purpose, persons, fields
FROM personal_data_reads
WHERE (CAST(? AS TEXT) IS NULL OR case_id = ?)
  AND (CAST(? AS TEXT) IS NULL OR read_id IN
       (SELECT read_id FROM personal_data_read_persons WHERE person_ref = ?))
ORDER BY read_id
"""


def _read(row: Iterable[Any]) -> PersonalRead:
    read_at, user_id, role, office_id, case_id, purpose, persons, fields = row
    return PersonalRead(
        read_at=datetime.fromisoformat(read_at),
        user_id=user_id,
        role=Role(role),
        office_id=office_id,
        case_id=UUID(case_id),
        purpose=purpose,
        persons=tuple(UUID(p) for p in orjson.loads(persons)),
        fields=tuple(orjson.loads(fields)),
    )
