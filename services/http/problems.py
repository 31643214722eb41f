"""Refusals as RFC 9457 problem details (``application/problem+json``), never echoing input.

Every refusal carries ``type``, ``title``, ``status``, ``detail`` and Doorstroom's own
``code`` (stable, machine-readable) and ``field`` (the command field concerned, if any).
Validation errors add ``errors``: one entry per field with pydantic's error type and a
message built from the schema, never from the value sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import ErrorDetails

MEDIA_TYPE: Final = "application/problem+json"
TYPE_PREFIX: Final = "urn:doorstroom:problem:"

# A location part is shown only if it cannot be a value someone typed: a field name in
# snake_case, a list index or a UUID (dict keys). Anything else reads as "<redacted>".
_SAFE_PART: Final = re.compile(
    r"^([a-z][a-z0-9_]{0,63}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
# Error types whose pydantic message quotes part of the input; they get a fixed message.
_QUOTING: Final[Mapping[str, str]] = {
    "uuid_parsing": "Input should be a valid UUID",
}


class FieldError(BaseModel):
    """One invalid field of a request body."""

    field: str | None = Field(description="Dotted path of the field; null for the whole body.")
    type: str = Field(description="pydantic's error type, e.g. `missing`, `string_too_long`.")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, plus Doorstroom's refusal code and field."""

    type: str = Field(examples=["urn:doorstroom:problem:no_open_trajectory"])
    title: str = Field(examples=["Refused by the rules of the case"])
    status: int = Field(examples=[409])
    detail: str = Field(examples=["there is no open trajectory to place the person in"])
    code: str = Field(examples=["no_open_trajectory"])
    field: str | None = Field(default=None, examples=["trajectory_id"])
    errors: list[FieldError] | None = None
    position: int | None = Field(
        default=None,
        description="For `not_caught_up`: the stream sequence the read model has reached.",
    )


class ProblemError(Exception):
    """Raised anywhere in a request to answer with a problem."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        field: str | None = None,
        *,
        errors: Sequence[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
        position: int | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.problem = Problem(
            type=TYPE_PREFIX + code,
            title=title,
            status=status,
            detail=detail,
            code=code,
            field=field,
            errors=list(errors) if errors is not None else None,
            position=position,
        )
        self.headers = dict(headers or {})


def problem_response(error: ProblemError) -> JSONResponse:
    body = error.problem.model_dump(exclude_none=True)
    body.setdefault("field", None)
    return JSONResponse(body, error.problem.status, error.headers, media_type=MEDIA_TYPE)


def _location(loc: Sequence[int | str]) -> str | None:
    parts = [str(p) if isinstance(p, int) or _SAFE_PART.match(p) else "<redacted>" for p in loc]
    return ".".join(parts) or None


def field_errors(errors: Sequence[ErrorDetails]) -> list[FieldError]:
    return [
        FieldError(
            field=_location(e["loc"]),
            type=e["type"],
            message=_QUOTING.get(e["type"], e["msg"]),
        )
        for e in errors
    ]


def from_validation(exc: ValidationError, command_name: str) -> ProblemError:
    """400 for a body that is not JSON, 422 for JSON that does not fit the command."""
    details = exc.errors(include_url=False, include_context=False, include_input=False)
    if any(e["type"] == "json_invalid" for e in details):
        return ProblemError(
            400,
            "malformed_json",
            "The body is not valid JSON",
            "the request body must be one JSON object (UTF-8)",
        )
    errors = field_errors(details)
    fields = sorted({e.field or "(body)" for e in errors})
    return ProblemError(
        422,
        "validation_error",
        "The body does not fit the command",
        f"{len(errors)} error(s) in the {command_name} body, at: {', '.join(fields)}",
        errors[0].field if errors else None,
        errors=errors,
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given problem statuses."""
    reasons = {
        400: "Malformed JSON",
        401: "Missing, unknown, expired or revoked token",
        403: "The role may not do this",
        404: "Unknown command or case (a case of another office does not exist)",
        409: "Refused by the rules of the case, or a concurrent write",
        413: "Body too large",
        415: "Body is not JSON",
        422: "The body does not fit the command",
        503: "A database or the event store did not answer, or a read model is not built yet",
        504: "The read model did not reach the requested stream sequence in time",
    }
    return {
        s: {
            "description": reasons[s],
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }
