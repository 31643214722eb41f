"""The FastStream broker: one request/reply subscriber per command, and its AsyncAPI document."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Annotated, Any, Final

from faststream import Path
from faststream.middlewares import ExceptionMiddleware
from faststream.nats import NatsBroker, NatsMessage
from faststream.nats.security import NatsCredentials, NatsSecurity, NatsToken, NatsUserPassword
from faststream.specification import AsyncAPI
from pydantic import ValidationError

from events.base import Role
from events.subjects import Subjects
from services.app import Application
from services.commands import COMMANDS, Command
from services.nats_entry.messages import (
    CORRELATION_HEADER,
    ROLE_HEADER,
    USER_HEADER,
    CommandAccepted,
    CommandRefused,
    CommandReply,
)
from services.nats_entry.service import CommandService
from services.offices import Offices
from services.refusals import refusal_of
from services.settings import Settings

QUEUE: Final = "doorstroom-commands"
WORKERS: Final = 16
"""Requests handled at once per command subject (commands of one case may race; the
application service's optimistic concurrency check decides)."""

DESCRIPTION: Final = """\
Office systems send commands to Doorstroom as NATS **core request/reply** messages (not
JetStream) on `{prefix}.cmd.<office>.<CommandName>`, one subject space per office.

- **Office**: the `<office>` token (NIS code) of the subject; a body never names it. The
  nats-server enforces it: `doorstroom nats-config` gives each office an NKey user that may
  publish only to `{prefix}.cmd.<office>.>` and subscribe only to `_INBOX_<office>.>`
  (connect with that inbox prefix). Another office's case reads as `case_not_found`.
- **Actor**: headers `{user}` (user id within the office, no name) and `{role}` (one of the
  roles in the schemas); optional `{correlation}` (UUID) ties commands of one process.
- **Body**: the command as JSON, exactly the schema of `doorstroom schema export`.
  `command_id` is the idempotency key: sending the same command again stores nothing and
  answers with the earlier result (`duplicate: true`).
- **Reply**: JSON, `status` `accepted` (case id, case version and stream sequence of the
  command's last event) or `refused` (a stable `code`, a `message` and the `field`). A
  refusal never contains a stack trace or the values that were sent.
"""


def _security(settings: Settings) -> NatsSecurity | None:
    if settings.nats_creds:
        return NatsCredentials(str(settings.nats_creds))
    if settings.nats_user and settings.nats_password:
        return NatsUserPassword(settings.nats_user, settings.nats_password.get_secret_value())
    if settings.nats_token:
        return NatsToken(settings.nats_token.get_secret_value())
    return None


def _refusal_replies() -> ExceptionMiddleware:
    """A body that does not validate (before the handler runs) is answered as refused."""
    middleware = ExceptionMiddleware()

    @middleware.add_handler(ValidationError, publish=True)
    def invalid(exc: ValidationError) -> CommandRefused:
        return CommandRefused.of(refusal_of(exc, strip=("body",)))

    @middleware.add_handler(Exception, publish=True)
    def failed(exc: Exception) -> CommandRefused:
        return CommandRefused.of(refusal_of(exc))

    return middleware


def _endpoint(cls: type[Command], service: CommandService) -> Any:
    """The subscriber of ``cls``: its body is typed as ``cls`` (validation, AsyncAPI)."""

    async def endpoint(body: Command, office: str, msg: NatsMessage) -> CommandReply:
        return await service.execute(body, office, msg.headers)

    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("body", kind, annotation=cls),
            inspect.Parameter("office", kind, annotation=Annotated[str, Path()]),
            inspect.Parameter("msg", kind, annotation=NatsMessage),
        ],
        return_annotation=CommandReply,
    )
    endpoint.__name__ = endpoint.__qualname__ = cls.command_name
    return endpoint


def command_broker(
    service: CommandService, settings: Settings, url: str | None = None
) -> NatsBroker:
    """A broker with a subscriber on ``<prefix>.cmd.{office}.<Name>`` for every command."""
    prefix = settings.subject_prefix
    servers = (url or settings.nats_url or "nats://localhost:4222").split(",")
    broker = NatsBroker(
        servers,
        name="doorstroom-commands",
        security=_security(settings),
        middlewares=[_refusal_replies()],
        log_level=logging.DEBUG,
        max_reconnect_attempts=-1,
        description="Doorstroom's NATS: the command service and the office systems connect here.",
    )
    subjects = Subjects(prefix)
    for name, cls in COMMANDS.items():
        broker.subscriber(
            subjects.command("{office}", name),
            queue=QUEUE,
            max_workers=WORKERS,
            title=name,
            description=inspect.cleandoc(cls.__doc__ or name),
        )(_endpoint(cls, service))
    return broker


@asynccontextmanager
async def serving_commands(
    app: Application, settings: Settings, url: str
) -> AsyncIterator[NatsBroker]:
    """Answer command requests until the block ends (``doorstroom run``)."""
    service = CommandService(app, Offices.load(settings.offices_file))
    broker = command_broker(service, settings, url)
    async with broker:
        await broker.start()
        await broker.connection.flush()  # the server knows every subscription from here on
        yield broker


def asyncapi_document(settings: Settings | None = None) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the command subjects, generated from the code."""
    settings = settings or Settings()
    offices = Offices.load(settings.offices_file)
    broker = command_broker(CommandService(None, offices), settings)
    description = DESCRIPTION.format(
        prefix=settings.subject_prefix,
        user=USER_HEADER,
        role=ROLE_HEADER,
        correlation=CORRELATION_HEADER,
    )
    spec = AsyncAPI(
        broker, title="Doorstroom commands", version=version("doorstroom"), description=description
    ).to_specification()
    doc: dict[str, Any] = spec.to_jsonable()
    _document_requests(doc, sorted(offices))
    _document_replies(doc)
    return doc


def _document_requests(doc: dict[str, Any], offices: list[str]) -> None:
    """Name the office parameter and the actor headers FastStream cannot see."""
    headers = {
        "type": "object",
        "required": [USER_HEADER, ROLE_HEADER],
        "properties": {
            USER_HEADER: {"type": "string", "pattern": r"^[A-Za-z0-9_.:/-]+$"},
            ROLE_HEADER: {"type": "string", "enum": [r.value for r in Role]},
            CORRELATION_HEADER: {"type": "string", "format": "uuid"},
        },
    }
    for channel in doc.get("channels", {}).values():
        channel["parameters"] = {
            "office": {
                "description": "NIS code of the office; its NATS user may publish only here.",
                "enum": offices,
            }
        }
    for message in doc.get("components", {}).get("messages", {}).values():
        message["headers"] = headers


def _document_replies(doc: dict[str, Any]) -> None:
    """Add the reply messages (AsyncAPI 3 operation replies to the requester's inbox)."""
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    messages = components.setdefault("messages", {})
    for model in (CommandAccepted, CommandRefused):
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(body.pop("$defs", {}))
        schemas[model.__name__] = body
        messages[model.__name__] = {
            "name": model.__name__,
            "title": model.__name__,
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
        }
    names = [CommandAccepted.__name__, CommandRefused.__name__]
    doc.setdefault("channels", {})["CommandReply"] = {
        "address": None,
        "description": "The requester's reply inbox (office users: _INBOX_<office>.…).",
        "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
    }
    for operation in doc.get("operations", {}).values():
        operation["reply"] = {
            "channel": {"$ref": "#/channels/CommandReply"},
            "messages": [{"$ref": f"#/channels/CommandReply/messages/{n}"} for n in names],
        }
