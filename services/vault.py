"""The person vault: one AES-256-GCM key per person, kept outside the stream, destroyable.

Keys live in a table ``person_keys`` (SQLite file in the data dir, or PostgreSQL), each
wrapped with a master key (setting DOORSTROOM_MASTER_KEY, else a key file in the data dir).
Erasure overwrites and deletes the wrapped key and leaves a tombstone with the erasure
time; every later read of that person's sealed fields shows them as erased.
"""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.db import Database

ALGORITHM = "AES-256-GCM"
WRITE_KEY_CACHE = 10_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS person_keys (
    person_ref TEXT PRIMARY KEY,
    wrapped_key BYTEA,
    created_at TEXT NOT NULL,
    erased_at TEXT
)
"""


class PersonErasedError(RuntimeError):
    """New personal data for a person whose key was destroyed."""


class VaultError(RuntimeError):
    """The vault cannot unwrap a key: wrong master key or corrupted entry."""


def _create_key_file(path: Path) -> None:
    """Write a new key to ``path`` whole or not at all: written to a private temporary file,
    then linked into place, so a process starting at the same moment never reads a file
    that exists but is still empty; if another process linked first, its key stays."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".master.key-")
    try:
        with os.fdopen(fd, "wb") as out:  # mkstemp makes it readable by its owner only
            out.write(base64.b64encode(AESGCM.generate_key(bit_length=256)))
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        Path(temporary).unlink()


def load_or_create_master_key(secret: str | None, data_dir: Path) -> bytes:
    """The master key from the setting, else from ``data_dir/master.key`` (created once)."""
    if secret:
        key = base64.b64decode(secret)
    else:
        path = data_dir / "master.key"
        if not path.exists():
            _create_key_file(path)
        key = base64.b64decode(path.read_bytes())
    if len(key) != 32:
        raise VaultError("the master key must be 32 bytes (base64-encoded)")
    return key


class KeyVault:
    """Per-person keys in SQL; implements the codec's ``Sealer``."""

    def __init__(self, url: str, master_key: bytes) -> None:
        self._db = Database.connect(url)
        self._master = AESGCM(master_key)
        self._lock = threading.Lock()
        # Unwrapped keys for writing only. Reads always ask the table, so an erasure by
        # another process takes effect at once; a cached key that writes after such an
        # erasure produces ciphertext nobody can open any more, which is erasure too.
        self._write_keys: OrderedDict[UUID, bytes] = OrderedDict()
        if not self._db.postgres:
            # Deleted content is overwritten in the SQLite file, not just unlinked.
            self._db.execute("PRAGMA secure_delete=ON")
        with self._lock:
            self._db.execute(_SCHEMA.replace("BYTEA", "BLOB") if not self._db.postgres else _SCHEMA)
            if self._db.postgres:
                self._db.commit()

    def close(self) -> None:
        self._db.close()

    def _row(self, person_ref: UUID) -> tuple[bytes | None, str | None] | None:
        row = self._db.execute(
            "SELECT wrapped_key, erased_at FROM person_keys WHERE person_ref = ?",
            (str(person_ref),),
        ).fetchone()
        if self._db.postgres:
            self._db.commit()
        return None if row is None else (row[0], row[1])

    def _unwrap(self, person_ref: UUID, wrapped: bytes) -> bytes:
        try:
            return self._master.decrypt(bytes(wrapped[:12]), bytes(wrapped[12:]), person_ref.bytes)
        except InvalidTag as exc:
            raise VaultError(f"cannot unwrap the key of person {person_ref}") from exc

    def key_for_write(self, person_ref: UUID) -> bytes:
        """The person's key, created on first use; refused after erasure."""
        cached = self._write_keys.get(person_ref)
        if cached is not None:
            return cached
        with self._lock:
            row = self._row(person_ref)
            if row is None:
                key = AESGCM.generate_key(bit_length=256)
                nonce = os.urandom(12)
                wrapped_new = nonce + self._master.encrypt(nonce, key, person_ref.bytes)
                # A concurrent writer may win this insert; the row read back decides.
                self._db.execute(
                    "INSERT INTO person_keys (person_ref, wrapped_key, created_at) "
                    "VALUES (?, ?, ?) ON CONFLICT (person_ref) DO NOTHING",
                    (str(person_ref), wrapped_new, datetime.now(UTC).isoformat()),
                )
                if self._db.postgres:
                    self._db.commit()
                row = self._row(person_ref)
            assert row is not None
            wrapped, erased_at = row
            if wrapped is None:
                raise PersonErasedError(
                    f"person {person_ref} was erased at {erased_at}; no new personal data"
                )
            key = self._unwrap(person_ref, wrapped)
            self._write_keys[person_ref] = key
            while len(self._write_keys) > WRITE_KEY_CACHE:
                self._write_keys.popitem(last=False)
            return key

    def key_for_read(self, person_ref: UUID) -> bytes | None:
        """The person's key, or None when it was destroyed or never existed."""
        with self._lock:
            row = self._row(person_ref)
        if row is None or row[0] is None:
            return None
        return self._unwrap(person_ref, row[0])

    def erase(self, person_ref: UUID) -> bool:
        """Destroy the person's key. True when a key was destroyed now."""
        now = datetime.now(UTC).isoformat()
        self._write_keys.pop(person_ref, None)
        with self._lock:
            cur = self._db.execute(
                "UPDATE person_keys SET wrapped_key = NULL, erased_at = ? "
                "WHERE person_ref = ? AND wrapped_key IS NOT NULL",
                (now, str(person_ref)),
            )
            destroyed = bool(cur.rowcount)
            if not destroyed:
                # Unknown person: leave a tombstone so that no key is ever created later.
                self._db.execute(
                    "INSERT INTO person_keys (person_ref, wrapped_key, created_at, erased_at) "
                    "VALUES (?, NULL, ?, ?) ON CONFLICT (person_ref) DO NOTHING",
                    (str(person_ref), now, now),
                )
            if self._db.postgres:
                self._db.commit()
        return destroyed

    def erased_at(self, person_ref: UUID) -> str | None:
        with self._lock:
            row = self._row(person_ref)
        return None if row is None else row[1]

    # Sealer protocol -------------------------------------------------------------------

    def seal(self, person_ref: UUID, plaintext: bytes, aad: bytes) -> dict[str, str]:
        key = self.key_for_write(person_ref)
        nonce = os.urandom(12)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext, aad)
        return {
            "alg": ALGORITHM,
            "person_ref": str(person_ref),
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(ciphertext).decode(),
        }

    def open(self, sealed: dict[str, str], aad: bytes) -> bytes | None:
        key = self.key_for_read(UUID(sealed["person_ref"]))
        if key is None:
            return None
        try:
            return AESGCM(key).decrypt(
                base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]), aad
            )
        except InvalidTag as exc:
            raise VaultError("sealed fields do not match their key (tampered?)") from exc
