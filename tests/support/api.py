"""The HTTP API on a real nats-server and real SQLite files, through httpx's ASGI transport."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from fastapi import FastAPI

from events.base import Role
from services.app import Application
from services.cases import CaseRepository, LoadedCase
from services.commands import Command
from services.domain import CaseFold, CaseState
from services.http.app import create_app, open_api
from services.http.deps import Api
from services.http.problems import MEDIA_TYPE
from services.http.tokens import Issued
from services.runtime import Runtime, open_runtime
from services.settings import Settings
from services.store import EventStore
from tests.support.domain import OFFICE

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@dataclass
class ApiStack:
    """The API app, an httpx client on it, and the runtime beneath."""

    app: FastAPI
    client: httpx.AsyncClient
    rt: Runtime

    @property
    def api(self) -> Api:
        api: Api = self.app.state.api
        return api

    @property
    def store(self) -> EventStore:
        return self.rt.store

    def issue(
        self, role: Role = Role.SOCIAL_WORKER, office: str = OFFICE, user: str = "u-1042"
    ) -> Issued:
        return self.api.tokens.issue(user_id=user, office_id=office, role=role, now=NOW)

    def auth(
        self, role: Role = Role.SOCIAL_WORKER, office: str = OFFICE, user: str = "u-1042"
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issue(role, office, user).token}"}

    async def send(
        self, command: Command | str, body: Any = None, *, headers: dict[str, str]
    ) -> httpx.Response:
        """POST a command (a model, or a name and a JSON body)."""
        if isinstance(command, Command):
            name, body = command.command_name, command.model_dump(mode="json")
        else:
            name = command
        return await self.client.post(f"/commands/{name}", json=body, headers=headers)

    async def ok(self, *commands: Command, headers: dict[str, str]) -> list[dict[str, Any]]:
        """Send commands that must be accepted; their answers."""
        answers = []
        for command in commands:
            response = await self.send(command, headers=headers)
            assert response.status_code == 200, response.text
            answers.append(response.json())
        return answers

    async def timeline(self, case_id: UUID | str, *, headers: dict[str, str]) -> httpx.Response:
        return await self.client.get(f"/cases/{case_id}/timeline", headers=headers)

    async def messages(self) -> int:
        info = await self.rt.js.stream_info(self.rt.settings.stream)
        return int(info.state.messages)

    def with_application(self, application: Application) -> ApiStack:
        """The same API over another application service (same store and tokens)."""
        api = dataclasses.replace(self.api, application=application)
        app = create_app(api)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
        return ApiStack(app, client, self.rt)


BASE_URL = "http://doorstroom.test"


@asynccontextmanager
async def api_stack(nats_url: str, tmp_path: Path) -> AsyncIterator[ApiStack]:
    settings = Settings(nats_url=nats_url, data_dir=tmp_path / "data")
    async with open_runtime(settings) as rt, open_api(rt) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield ApiStack(app, client, rt)


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem with ``status`` and ``code``; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "code", "field"} <= body.keys()
    assert (body["status"], body["code"]) == (status, code), body
    assert body["type"] == f"urn:doorstroom:problem:{code}"
    return body


class Interrupted(CaseRepository[CaseState]):
    """Lets another writer append right after each of the next loads (a lost race)."""

    def __init__(self, store: EventStore, intrusions: list[Callable[[], Awaitable[object]]]):
        super().__init__(store, CaseFold())
        self.intrusions = intrusions

    def cached(self, case_id: UUID) -> LoadedCase[CaseState] | None:
        return None  # every attempt loads, so every attempt meets an intruder

    async def load(self, case_id: UUID) -> LoadedCase[CaseState]:
        loaded = await super().load(case_id)
        if self.intrusions:
            await self.intrusions.pop(0)()
        return loaded
