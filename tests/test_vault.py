"""The person vault on SQLite and PostgreSQL: keys wrapped, erasure final, tombstones kept."""

from __future__ import annotations

import os
from pathlib import Path
from uuid import uuid4

import pytest

from services.db import Database
from services.vault import KeyVault, PersonErasedError, VaultError, load_or_create_master_key


def _exercise(vault: KeyVault) -> None:
    person = uuid4()
    sealed = vault.seal(person, b"Jan Peeters", b"aad")
    assert b"Jan Peeters" not in repr(sealed).encode()
    assert vault.open(sealed, b"aad") == b"Jan Peeters"
    with pytest.raises(VaultError):
        vault.open(sealed, b"other-event")  # ciphertext bound to its event id
    assert vault.erase(person) is True
    assert vault.open(sealed, b"aad") is None
    assert vault.erased_at(person) is not None
    assert vault.erase(person) is False
    with pytest.raises(PersonErasedError):
        vault.seal(person, b"again", b"aad")
    # Erasing a person the vault never saw leaves a tombstone: no key can be made later.
    stranger = uuid4()
    assert vault.erase(stranger) is False
    with pytest.raises(PersonErasedError):
        vault.seal(stranger, b"x", b"aad")


def test_vault_on_sqlite_erases_for_good(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vault.sqlite3'}"
    vault = KeyVault(url, os.urandom(32))
    try:
        _exercise(vault)
    finally:
        vault.close()


@pytest.mark.postgres
def test_vault_on_postgres_erases_for_good(pg_dsn: str) -> None:
    vault = KeyVault(pg_dsn, os.urandom(32))
    try:
        _exercise(vault)
    finally:
        vault.close()


def test_wrapped_keys_are_useless_without_the_master_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vault.sqlite3'}"
    vault = KeyVault(url, os.urandom(32))
    person = uuid4()
    sealed = vault.seal(person, b"secret", b"aad")
    vault.close()
    db = Database.connect(url)
    (wrapped,) = db.execute("SELECT wrapped_key FROM person_keys").fetchone()
    db.close()
    assert len(wrapped) == 12 + 32 + 16  # nonce + key + tag: the key is never stored bare
    intruder = KeyVault(url, os.urandom(32))
    with pytest.raises(VaultError):
        intruder.open(sealed, b"aad")
    intruder.close()


def test_master_key_file_is_created_once_and_private(tmp_path: Path) -> None:
    first = load_or_create_master_key(None, tmp_path)
    assert load_or_create_master_key(None, tmp_path) == first
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600
