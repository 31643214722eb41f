"""Office systems send commands as NATS requests on ``<prefix>.cmd.<office>.<CommandName>``.

Thin FastStream subscribers (plain NATS core request/reply, not JetStream) turn each request
into ``Application.handle`` and answer with JSON: the command's case, version and stream
sequence, or a refusal. The office is the subject's token; the server's permissions
(``doorstroom nats-config``) let an office's user publish only into its own subjects.
"""

from services.nats_entry.broker import asyncapi_document, command_broker, serving_commands
from services.nats_entry.messages import (
    CORRELATION_HEADER,
    ROLE_HEADER,
    USER_HEADER,
    CommandAccepted,
    CommandRefused,
)
from services.nats_entry.service import CommandService

__all__ = [
    "CORRELATION_HEADER",
    "ROLE_HEADER",
    "USER_HEADER",
    "CommandAccepted",
    "CommandRefused",
    "CommandService",
    "asyncapi_document",
    "command_broker",
    "serving_commands",
]
