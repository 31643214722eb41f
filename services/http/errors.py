"""Every refusal as a problem: the exception handlers, and a last line against crashes.

Refusals map to statuses as follows (the ``code`` names the reason):

| cause | status | code |
|---|---|---|
| no, unknown, expired or revoked token | 401 | `unauthenticated` |
| the role may not send the command | 403 | `forbidden_for_role` |
| unknown command, unknown path | 404 | `unknown_command`, `not_found` |
| a case that does not exist for the caller's office | 404 | `case_not_found` |
| body not JSON / too large / not `application/json` | 400 / 413 / 415 | `malformed_json`, ... |
| body does not fit the command | 422 | `validation_error` |
| not the counsellor's case; not theirs to assign | 403 | `not_assigned`, `assignment_not_allowed` |
| refused by a rule of the domain | 409 | the domain's code |
| another writer won twice in a row | 409 | `concurrent_write` |
| NATS or a database unreachable | 503 | `store_unavailable` |
| anything else (a bug) | 500 | `internal_error`, logged with an incident id |
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Final
from uuid import uuid4

import nats.errors
import psycopg
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services import access
from services.domain import DomainError
from services.http.problems import ProblemError, field_errors, problem_response
from services.offices import UnknownOfficeError
from services.store import AppendError, ConcurrencyError
from services.vault import PersonErasedError

log = logging.getLogger("doorstroom.http")

Handler = Callable[[Request, Exception], Awaitable[Response]]


def _problem(
    status: int, code: str, title: str, detail: str, field: str | None = None
) -> JSONResponse:
    return problem_response(ProblemError(status, code, title, detail, field))


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(exc)


async def _on_domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if exc.code == "case_not_found":
        return _problem(404, exc.code, "Case not found", exc.message, exc.field)
    if exc.code in access.FORBIDDEN_CODES:
        return _problem(403, exc.code, "Not your case", exc.message, exc.field)
    return _problem(409, exc.code, "Refused by the rules of the case", exc.message, exc.field)


async def _on_conflict(request: Request, exc: Exception) -> Response:
    detail = "the case changed twice while this command was decided; send it again"
    return _problem(409, "concurrent_write", "Concurrent write", detail, "case_id")


async def _on_erased(request: Request, exc: Exception) -> Response:
    detail = "the person's data were erased; no new personal data can be recorded"
    return _problem(409, "person_erased", "Refused by the rules of the case", detail, "person_ref")


async def _on_office(request: Request, exc: Exception) -> Response:
    detail = "the token's office is not a known office of this installation"
    return _problem(403, "unknown_office", "Unknown office", detail)


async def _on_append(request: Request, exc: Exception) -> Response:
    return _problem(422, "append_refused", "The command cannot be stored", str(exc))


async def _on_nats(request: Request, exc: Exception) -> Response:
    response: Response = _problem(
        503, "store_unavailable", "Event store unavailable", "the event store did not answer"
    )
    response.headers["Retry-After"] = "5"
    return response


async def _on_database(request: Request, exc: Exception) -> Response:
    log.warning("database error on %s %s: %s", request.method, request.url.path, exc)
    response: Response = _problem(
        503, "store_unavailable", "Database unavailable", "a database did not answer"
    )
    response.headers["Retry-After"] = "5"
    return response


async def _on_disconnect(request: Request, exc: Exception) -> Response:
    return _problem(400, "client_disconnected", "Client disconnected", "the body was cut off")


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return _problem(404, "not_found", "Not found", "no such resource")
    if exc.status_code == 405:
        response: Response = _problem(
            405, "method_not_allowed", "Method not allowed", "this resource takes another method"
        )
        response.headers.update(exc.headers or {})
        return response
    code = "http_error" if exc.status_code >= 500 else "bad_request"
    return _problem(exc.status_code, code, "Request refused", "the request was refused")


async def _on_request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = field_errors(list(exc.errors()))
    return problem_response(
        ProblemError(422, "validation_error", "Invalid request", "see errors", errors=errors)
    )


class CrashGuard:
    """Last line: an unexpected error is logged with an incident id and answered with a
    bare 500 problem, never a stack trace or the request's data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            incident = uuid4().hex[:12]
            log.exception("incident %s: %s %s failed", incident, scope["method"], scope["path"])
            if not started:
                detail = f"the request failed on our side (incident {incident})"
                response = _problem(500, "internal_error", "Internal error", detail)
                await response(scope, receive, send)


HANDLERS: Final[dict[type[Exception], Handler]] = {
    ProblemError: _on_problem,
    DomainError: _on_domain,
    ConcurrencyError: _on_conflict,
    PersonErasedError: _on_erased,
    UnknownOfficeError: _on_office,
    AppendError: _on_append,
    TimeoutError: _on_nats,  # nats-py's timeouts too
    nats.errors.NoServersError: _on_nats,
    nats.errors.ConnectionClosedError: _on_nats,
    sqlite3.OperationalError: _on_database,
    psycopg.OperationalError: _on_database,
    ClientDisconnect: _on_disconnect,
    HTTPException: _on_http,
    RequestValidationError: _on_request_validation,
}
