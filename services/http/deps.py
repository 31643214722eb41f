"""What every route needs: the wired services, the caller (from the bearer token), a Context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Final

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from nats.aio.client import Client as NATS

from events.envelope import Actor
from services.access_log import AccessLog
from services.app import Application
from services.domain import Context
from services.http.problems import ProblemError
from services.http.tokens import Principal, TokenStore
from services.readmodels import ReadModels
from services.store import EventStore

MAX_BODY: Final = 1024 * 1024
"""Bytes of a command body; the largest valid command is far smaller."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Api:
    """The services behind the HTTP API, built once by ``services.http.app.open_api``."""

    application: Application
    store: EventStore
    tokens: TokenStore
    nc: NATS | None = None
    reads: AccessLog | None = None  # required to show decrypted personal data
    read_models: ReadModels | None = None
    clock: Callable[[], datetime] = utcnow
    max_body: int = MAX_BODY


async def get_api(request: Request) -> Api:
    api: Api = request.app.state.api
    return api


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token from `doorstroom tokens issue` (user, office and role).",
)


def unauthenticated(detail: str) -> ProblemError:
    return ProblemError(
        401,
        "unauthenticated",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="doorstroom"'},
    )


def verified(api: Api, authorization: str | None) -> Principal:
    """The caller of a valid, unrevoked, unexpired bearer token; 401 otherwise."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("send `Authorization: Bearer <token>`")
    principal = api.tokens.verify(token.strip(), api.clock())
    if principal is None:
        raise unauthenticated("the token is unknown, expired or revoked")
    return principal


async def authenticate(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Principal:
    """``verified`` as a dependency (which also puts the bearer scheme into the OpenAPI).

    Dependencies are coroutines so that FastAPI does not hand them to a worker thread.
    """
    return verified(api, request.headers.get("authorization"))


Caller = Annotated[Principal, Depends(authenticate)]
ApiDep = Annotated[Api, Depends(get_api)]


def context_for(api: Api, caller: Principal) -> Context:
    """The domain's view of the caller: actor, office, recording time."""
    return Context(
        actor=Actor(user_id=caller.user_id, role=caller.role),
        office_id=caller.office_id,
        now=api.clock(),
    )
