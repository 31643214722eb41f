"""The person vault on SQLite and PostgreSQL: keys wrapped, erasure final, tombstones kept."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
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


def test_processes_starting_together_on_a_new_data_dir_share_one_whole_master_key(
    tmp_path: Path,
) -> None:
    # The file used to be created empty and written after: a second process could read it
    # in between ("the master key must be 32 bytes").
    code = (
        "import sys, base64; from pathlib import Path; "
        "from services.vault import load_or_create_master_key as load; "
        "print(base64.b64encode(load(None, Path(sys.argv[1]))).decode())"
    )
    root = str(Path(__file__).resolve().parents[1])
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path / "var")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": root},
        )
        for _ in range(8)
    ]
    keys = set()
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
        keys.add(out.strip())
    assert len(keys) == 1
    assert len(base64.b64decode(keys.pop())) == 32
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["master.key"]
