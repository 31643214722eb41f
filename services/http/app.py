"""The FastAPI application: the routes, the refusal handlers, the OpenAPI, the wiring."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from projections.positions import PositionBoard
from services.access_log import AccessLog
from services.commands import COMMANDS
from services.http.cases import cases_router
from services.http.commands import command_routes, documented_routes
from services.http.deps import Api
from services.http.errors import HANDLERS, CrashGuard
from services.http.problems import Problem, ProblemError, problem_response
from services.http.readmodels import metrics_router, read_models_router
from services.http.reports import reports_router
from services.http.tokens import TokenStore
from services.readmodels import ReadModels
from services.runtime import Runtime, build_application

DESCRIPTION = """\
Commands, case timelines and read models of Doorstroom. Every request needs `Authorization: Bearer
<token>` (see `doorstroom tokens issue`); the token fixes the user, the office and the role.
Refusals are `application/problem+json` (RFC 9457) with a stable `code` and the `field`
concerned.
"""


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema with every command model and the problem document under
    ``components.schemas``, and without FastAPI's own validation-error answers (requests
    are validated here, into problems)."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=[*documented_routes().routes, *app.routes],
        )
        for path in schema["paths"].values():
            for operation in path.values():
                answer = operation.get("responses", {}).get("422", {})
                if "HTTPValidationError" in str(answer):
                    del operation["responses"]["422"]
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        models: list[type[BaseModel]] = [Problem, *COMMANDS.values()]
        _, defs = models_json_schema(
            [(cls, "validation") for cls in models], ref_template="#/components/schemas/{model}"
        )
        for name, definition in defs.get("$defs", {}).items():
            if name in components and components[name] != definition:
                raise RuntimeError(f"two OpenAPI schemas are called {name}")
            components[name] = definition
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(api: Api) -> FastAPI:
    """The HTTP API on the given services."""
    app = FastAPI(
        title="Doorstroom",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.api = api
    app.add_middleware(CrashGuard)
    for exc_class, handler in HANDLERS.items():
        app.add_exception_handler(exc_class, handler)
    app.router.routes.extend(command_routes())
    app.include_router(cases_router())
    app.include_router(read_models_router())
    app.include_router(metrics_router())
    app.include_router(reports_router())

    @app.get("/health", tags=["service"], summary="Liveness: the API runs and NATS is connected")
    async def health() -> JSONResponse:
        if api.nc is not None and not api.nc.is_connected:
            refusal = ProblemError(503, "store_unavailable", "Not ready", "NATS is not connected")
            return problem_response(refusal)
        return JSONResponse({"status": "ok"})

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


@asynccontextmanager
async def open_api(rt: Runtime, board: PositionBoard | None = None) -> AsyncIterator[FastAPI]:
    """The API on ``rt``: its application service, store and connection; the tokens and the
    access log in the vault database; the read models in the read-model database (``board``:
    the in-process workers' reports, which wake up reads waiting for a stream sequence)."""
    application = await build_application(rt)
    tokens = TokenStore(rt.settings.vault_url)
    access_log = AccessLog(rt.settings.vault_url)
    read_models = ReadModels(rt.settings.db_url, board=board, max_wait_s=rt.settings.read_wait_s)
    try:
        yield create_app(
            Api(application, rt.store, tokens, rt.nc, reads=access_log, read_models=read_models)
        )
    finally:
        read_models.close()
        access_log.close()
        tokens.close()
