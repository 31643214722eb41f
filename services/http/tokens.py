"""API tokens: random bearer tokens kept only as SHA-256 hashes, each for one user, office, role.

The table ``api_tokens`` lives in the vault database (``DOORSTROOM_VAULT_DB``), not in the
read-model database: read models are disposable and rebuilt from the stream, tokens are not.
A token is shown once when it is issued; afterwards only its id (to revoke it) is known.

A verified token is remembered in the process for ``CACHE_SECONDS`` (10 s), so a request
does not cost a database round trip; its expiry is still checked on every request. A
revocation in the same process takes effect at once; one made by another process
(``doorstroom tokens revoke``) within ``CACHE_SECONDS``. Unknown tokens are never cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from events.base import Code, Role
from events.envelope import OfficeId
from services.db import Database

PREFIX: Final = "dst_"
MAX_TOKEN_LENGTH: Final = 200
CACHE_SECONDS: Final = 10.0
"""How long a verified token is trusted without asking the database (bounds how late a
revocation by another process takes effect)."""
CACHE_SIZE: Final = 10_000
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS api_tokens (
    token_id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    office_id TEXT NOT NULL,
    role TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
)
"""
_USER: TypeAdapter[str] = TypeAdapter(Code)
_OFFICE: TypeAdapter[str] = TypeAdapter(OfficeId)


class TokenError(ValueError):
    """A token cannot be issued as asked (bad user id, office or role)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid token speaks for."""

    token_id: str
    user_id: str
    office_id: str
    role: Role


@dataclass(frozen=True, slots=True)
class Issued:
    """A new token: ``token`` is shown once and never stored."""

    token_id: str
    token: str
    principal: Principal


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A stored token as listed (no secret, no hash)."""

    principal: Principal
    issued_at: str
    expires_at: str | None
    revoked_at: str | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Verified:
    principal: Principal
    expires_at: datetime | None
    checked: float  # monotonic time of the database lookup


class TokenStore:
    """Issue, verify, list and revoke API tokens in SQLite or PostgreSQL."""

    def __init__(
        self,
        url: str,
        *,
        cache_seconds: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = Database.connect(url)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, _Verified] = OrderedDict()
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._run(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def _commit(self) -> None:
        if self._db.postgres:
            self._db.commit()

    def _run(self, statement: str, params: tuple[object, ...] = ()) -> Any:
        """Execute and commit; roll back on failure, so that a lost PostgreSQL connection or
        a failed statement does not leave an aborted transaction for every later call."""
        with self._lock:
            try:
                cursor = self._db.execute(statement, params)
                rows = cursor.fetchall() if cursor.description else cursor.rowcount
                self._commit()
            except Exception:
                with contextlib.suppress(Exception):
                    self._db.rollback()
                raise
        return rows

    def issue(
        self,
        *,
        user_id: str,
        office_id: str,
        role: Role | str,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> Issued:
        """A new random token for ``user_id`` of ``office_id`` acting as ``role``."""
        try:
            user_id = _USER.validate_python(user_id)
            office_id = _OFFICE.validate_python(office_id)
        except ValidationError as exc:
            raise TokenError(
                "user ids are 1-64 letters, digits or _.:/- and offices 5-digit NIS codes"
            ) from exc
        try:
            role = Role(role)
        except ValueError as exc:
            raise TokenError(f"unknown role; one of {', '.join(r.value for r in Role)}") from exc
        token_id = secrets.token_hex(8)
        token = PREFIX + secrets.token_urlsafe(32)
        self._run(
            "INSERT INTO api_tokens (token_id, token_hash, user_id, office_id, role, "
            "issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                token_id,
                token_hash(token),
                user_id,
                office_id,
                role.value,
                now.isoformat(),
                expires_at.isoformat() if expires_at else None,
            ),
        )
        return Issued(token_id, token, Principal(token_id, user_id, office_id, role))

    def verify(self, token: str, now: datetime) -> Principal | None:
        """Who ``token`` speaks for; None when it is unknown, revoked or expired."""
        if not token.startswith(PREFIX) or len(token) > MAX_TOKEN_LENGTH:
            return None
        digest = token_hash(token)
        known = self._cached(digest)
        if known is None:
            known = self._lookup(digest)
            if known is None:
                return None
            self._remember(digest, known)
        if known.expires_at is not None and known.expires_at <= now:
            return None
        return known.principal

    def _cached(self, digest: str) -> _Verified | None:
        known = self._cache.get(digest)
        if known is None or self._monotonic() - known.checked >= self._cache_seconds:
            return None
        return known

    def _remember(self, digest: str, known: _Verified) -> None:
        self._cache[digest] = known
        self._cache.move_to_end(digest)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _lookup(self, digest: str) -> _Verified | None:
        """The token's row as a principal; None when unknown, revoked or of an unknown role."""
        rows = self._run(
            "SELECT token_id, user_id, office_id, role, expires_at, revoked_at "
            "FROM api_tokens WHERE token_hash = ?",
            (digest,),
        )
        if not rows:
            return None
        token_id, user_id, office_id, role, expires_at, revoked_at = rows[0]
        if revoked_at is not None:
            return None
        try:
            principal = Principal(token_id, user_id, office_id, Role(role))
        except ValueError:
            return None
        expires = datetime.fromisoformat(expires_at) if expires_at is not None else None
        return _Verified(principal, expires, self._monotonic())

    def revoke(self, token_id: str, now: datetime) -> bool:
        """Revoke the token ``token_id``; False when there is no such unrevoked token."""
        changed = self._run(
            "UPDATE api_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
            (now.isoformat(), token_id),
        )
        for digest, known in list(self._cache.items()):
            if known.principal.token_id == token_id:
                del self._cache[digest]
        return bool(changed)

    def tokens(self) -> list[TokenInfo]:
        """Every stored token, oldest first."""
        rows = self._run(
            "SELECT token_id, user_id, office_id, role, issued_at, expires_at, revoked_at "
            "FROM api_tokens ORDER BY issued_at, token_id"
        )
        return [TokenInfo(Principal(r[0], r[1], r[2], Role(r[3])), r[4], r[5], r[6]) for r in rows]
