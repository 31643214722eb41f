"""API tokens: random, stored as hashes only, revocable, expiring; SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from events.base import Role
from services.http.tokens import TokenError, TokenStore

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def stored_rows(url: str) -> list[tuple[object, ...]]:
    store = TokenStore(url)
    try:
        rows: list[tuple[object, ...]] = store._db.execute("SELECT * FROM api_tokens").fetchall()
        store._commit()
        return rows
    finally:
        store.close()


def check_lifecycle(store: TokenStore) -> None:
    issued = store.issue(user_id="u-1042", office_id="31004", role="social_worker", now=NOW)
    principal = store.verify(issued.token, NOW)
    assert principal == issued.principal
    assert (principal.user_id, principal.office_id, principal.role) == (
        "u-1042",
        "31004",
        Role.SOCIAL_WORKER,
    )
    other = store.issue(user_id="u-1", office_id="11016", role=Role.INSPECTOR, now=NOW)
    assert other.token != issued.token
    assert store.revoke(issued.token_id, NOW)
    assert not store.revoke(issued.token_id, NOW)  # already revoked
    assert store.verify(issued.token, NOW) is None
    assert store.verify(other.token, NOW) == other.principal
    listed = {i.principal.token_id: i for i in store.tokens()}
    assert listed[issued.token_id].revoked_at is not None
    assert listed[other.token_id].revoked_at is None
    with pytest.raises(Exception, match="no_such_table"):
        store._run("SELECT * FROM no_such_table")
    store._cache.clear()  # ask the database again
    assert store.verify(other.token, NOW) == other.principal  # no aborted transaction left


def test_a_token_verifies_until_it_is_revoked(tmp_path: Path) -> None:
    store = TokenStore(f"sqlite:///{tmp_path / 'vault.sqlite3'}")
    try:
        check_lifecycle(store)
    finally:
        store.close()


@pytest.mark.postgres
def test_tokens_live_in_postgresql_too(pg_dsn: str) -> None:
    store = TokenStore(pg_dsn)
    try:
        check_lifecycle(store)
    finally:
        store.close()


def test_only_the_hash_of_a_token_is_stored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vault.sqlite3'}"
    store = TokenStore(url)
    issued = store.issue(user_id="u-1", office_id="31004", role=Role.FINANCE, now=NOW)
    store.close()
    (row,) = stored_rows(url)
    assert issued.token not in map(str, row)
    assert hashlib.sha256(issued.token.encode()).hexdigest() in row
    assert issued.token not in (tmp_path / "vault.sqlite3").read_bytes().decode("latin-1")


def test_an_expired_unknown_or_altered_token_does_not_verify(tmp_path: Path) -> None:
    store = TokenStore(f"sqlite:///{tmp_path / 'vault.sqlite3'}")
    try:
        issued = store.issue(
            user_id="u-1",
            office_id="31004",
            role=Role.SOCIAL_WORKER,
            now=NOW,
            expires_at=NOW + timedelta(days=1),
        )
        assert store.verify(issued.token, NOW + timedelta(hours=23)) is not None
        assert store.verify(issued.token, NOW + timedelta(days=1)) is None
        assert store.verify(issued.token[:-1], NOW) is None
        assert store.verify("", NOW) is None
        assert store.verify(issued.token + "x" * 1000, NOW) is None
    finally:
        store.close()


@pytest.mark.parametrize(
    ("user", "office", "role"),
    [
        ("Jan Peeters", "31004", "social_worker"),
        ("u-1", "3100", "social_worker"),
        ("u-1", "31004", "boss"),
    ],
)
def test_a_token_is_issued_only_for_a_valid_user_office_and_role(
    tmp_path: Path, user: str, office: str, role: str
) -> None:
    store = TokenStore(f"sqlite:///{tmp_path / 'vault.sqlite3'}")
    try:
        with pytest.raises(TokenError):
            store.issue(user_id=user, office_id=office, role=role, now=NOW)
    finally:
        store.close()


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTROOM_")}
    env["DOORSTROOM_DATA_DIR"] = str(tmp_path / "var")
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "tokens", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def test_the_cli_issues_prints_once_lists_and_revokes(tmp_path: Path) -> None:
    issued = cli(tmp_path, "issue", "--office", "31004", "--user", "u-1042", "--role", "dpo")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    token_id = issued.stderr.split()[2]
    # Without the cache: the revocation by the CLI process must show at the next lookup.
    store = TokenStore(f"sqlite:///{tmp_path / 'var' / 'vault.sqlite3'}", cache_seconds=0)
    try:
        principal = store.verify(token, datetime.now(UTC))
        assert principal is not None
        assert (principal.token_id, principal.role) == (token_id, Role.DPO)
        listed = cli(tmp_path, "list")
        assert token_id in listed.stdout
        assert token not in listed.stdout
        assert "active" in listed.stdout
        assert cli(tmp_path, "revoke", token_id).returncode == 0
        assert store.verify(token, datetime.now(UTC)) is None
        assert cli(tmp_path, "revoke", token_id).returncode == 1
        assert "revoked" in cli(tmp_path, "list").stdout
    finally:
        store.close()


def test_the_cli_refuses_an_unknown_office_or_role(tmp_path: Path) -> None:
    office = cli(tmp_path, "issue", "--office", "99999", "--user", "u-1", "--role", "dpo")
    role = cli(tmp_path, "issue", "--office", "31004", "--user", "u-1", "--role", "boss")
    assert (office.returncode, role.returncode) == (2, 2)
    assert office.stdout == role.stdout == ""


def test_a_verified_token_is_cached_briefly_and_a_revocation_elsewhere_takes_effect_after(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'vault.sqlite3'}"
    clock = [100.0]
    api = TokenStore(url, cache_seconds=10, monotonic=lambda: clock[0])
    cli = TokenStore(url)  # `doorstroom tokens revoke` in another process
    try:
        expires = NOW + timedelta(hours=1)
        issued = api.issue(
            user_id="u-1", office_id="31004", role=Role.JOB_COACH, now=NOW, expires_at=expires
        )
        assert api.verify(issued.token, NOW) == issued.principal
        assert cli.revoke(issued.token_id, NOW)
        clock[0] += 9.9
        assert api.verify(issued.token, NOW) == issued.principal  # still within the cache
        assert api.verify(issued.token, expires) is None  # expiry holds even when cached
        clock[0] += 0.1
        assert api.verify(issued.token, NOW) is None  # the revocation took effect

        again = api.issue(user_id="u-2", office_id="31004", role=Role.FINANCE, now=NOW)
        assert api.verify(again.token, NOW) == again.principal
        assert api.revoke(again.token_id, NOW)
        assert api.verify(again.token, NOW) is None  # at once in the revoking process
    finally:
        api.close()
        cli.close()


def test_an_unknown_token_is_not_cached(tmp_path: Path) -> None:
    store = TokenStore(f"sqlite:///{tmp_path / 'vault.sqlite3'}")
    try:
        assert store.verify("dst_" + "x" * 43, NOW) is None
        assert store._cache == {}
    finally:
        store.close()
