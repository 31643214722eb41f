"""Commands over HTTP: ``POST /commands/{CommandName}`` with the command as JSON body.

The body is exactly the command model (the schemas of ``doorstroom schema export``); the
office and the actor come from the caller's token. Checks run in this order: token (401),
command name (404), role (403), body (413, 415, 400, 422), then the application service
(404 for a case that does not exist for the caller's office, 409 for a refusal). The
OpenAPI documents one operation per command; one plain route serves them all.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.routing import BaseRoute, Route

from services import access
from services.commands import COMMANDS, parse_command
from services.http.deps import Api, ApiDep, Caller, context_for, verified
from services.http.problems import ProblemError, from_validation, problem_responses
from services.http.tokens import Principal
from services.http.views import CommandAccepted

JSON_TYPES = ("application/json",)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused when it is not JSON (415) or larger than ``limit`` (413)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media and media not in JSON_TYPES and not media.endswith("+json"):
        raise ProblemError(
            415, "unsupported_media_type", "The body is not JSON", "send application/json"
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ProblemError:
    return ProblemError(
        413, "body_too_large", "Body too large", f"a command body has at most {limit} bytes"
    )


async def send_command(name: str, request: Request, api: Api, caller: Principal) -> CommandAccepted:
    """Check the role, parse the body and let the application service handle the command."""
    if not access.may_send(caller.role, name):
        raise ProblemError(
            403,
            "forbidden_for_role",
            "The role may not send this command",
            f"the role {caller.role.value} may not send {name}",
        )
    body = await read_body(request, api.max_body)
    try:
        command = parse_command(name, body)
    except ValidationError as exc:
        raise from_validation(exc, name) from None
    handled = await api.application.handle(
        command, context_for(api, caller), authorize=access.check_case_access
    )
    return CommandAccepted.of(name, handled)


def _endpoint(name: str) -> Callable[..., Awaitable[CommandAccepted]]:
    async def endpoint(request: Request, api: ApiDep, caller: Caller) -> CommandAccepted:
        return await send_command(name, request, api, caller)

    endpoint.__name__ = f"send_{name}"
    return endpoint


def _description(name: str) -> str:
    cls = COMMANDS[name]
    roles = ", ".join(f"`{r.value}`" for r in access.senders(name)) or "none"
    produces = ", ".join(f"`{e}`" for e in cls.produces)
    doc = (cls.__doc__ or "").strip()
    return f"{doc}\n\nProduces {produces}. Roles that may send it: {roles}."


def _request_body(name: str) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{name}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def documented_routes() -> APIRouter:
    """One documented route per command, for the OpenAPI schema.

    Requests are served by the single route of ``command_routes``: FastAPI tries routes
    one after another, and 64 of them cost about half a millisecond per request.
    """
    router = APIRouter(prefix="/commands")
    errors = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)
    for name, cls in COMMANDS.items():
        router.add_api_route(
            f"/{name}",
            _endpoint(name),
            methods=["POST"],
            response_model=CommandAccepted,
            summary=name,
            description=_description(name),
            tags=[f"commands: {cls.__module__.rsplit('.', 1)[-1]}"],
            operation_id=name,
            responses=errors,
            openapi_extra=_request_body(name),
        )
    return router


async def command(request: Request) -> Response:
    """``POST /commands/{name}``: every command, and 404 for an unknown name.

    A plain Starlette endpoint: FastAPI's dependency solving and response validation cost
    about a millisecond a request, a third of the whole, on the path every command takes.
    """
    name: str = request.path_params["name"]
    api: Api = request.app.state.api
    caller = verified(api, request.headers.get("authorization"))
    if name not in COMMANDS:
        close = difflib.get_close_matches(name, COMMANDS, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ProblemError(
            404, "unknown_command", "Unknown command", f"there is no command of that name{hint}"
        )
    accepted = await send_command(name, request, api, caller)
    return Response(accepted.model_dump_json(), media_type="application/json")


def command_routes() -> list[BaseRoute]:
    return [Route("/commands/{name}", command, methods=["POST"], include_in_schema=False)]
