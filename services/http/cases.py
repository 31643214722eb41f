"""Reading a case: ``GET /cases/{case_id}/timeline``, its events in order.

Any role of the owning office reads the timeline (caseload roles only their assigned
cases); personal fields are decrypted only for the roles of ``services.access.REVEALS``,
shown as erased after the person's key was destroyed, and left out for every other role.
Every answer that shows decrypted fields is first written to the access log
(``services.access_log``): no log row, no answer. A case of another office, or one that
does not exist, is 404 alike.
"""

from __future__ import annotations

import logging
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Response

from events.codec import RecordedEvent
from services import access
from services.access_log import PersonalRead
from services.http.deps import Api, ApiDep, Caller, context_for
from services.http.problems import ProblemError, problem_responses
from services.http.tokens import Principal
from services.http.views import PersonalData, Timeline, TimelineEvent

PURPOSE = "GET /cases/{case_id}/timeline"

log = logging.getLogger("doorstroom.http.access")


def case_not_found() -> ProblemError:
    return ProblemError(
        404, "case_not_found", "Case not found", "no such case for your office", "case_id"
    )


def cases_router() -> APIRouter:
    router = APIRouter(prefix="/cases", tags=["cases"])

    @router.get(
        "/{case_id}/timeline",
        response_model=Timeline,
        responses=problem_responses(401, 404),
        summary="A case's events in order, with their envelopes",
        operation_id="timeline",
    )
    async def timeline(
        case_id: Annotated[str, Path(description="The case id (a UUID).")],
        api: ApiDep,
        caller: Caller,
    ) -> Response:
        try:
            case = UUID(case_id)
        except ValueError:
            raise case_not_found() from None
        loaded = await api.application.read(
            case, context_for(api, caller), authorize=access.check_case_access
        )
        if not loaded.head.version:
            raise case_not_found()
        reveal = access.may_reveal(caller.role)
        records = await api.store.read_case(case, up_to_seq=loaded.head.last_seq, reveal=reveal)
        events = [TimelineEvent.of(rec, revealed=reveal) for rec in records]
        _log_reveal(api, caller, case, records, events)
        timeline = Timeline(
            case_id=case,
            office_id=caller.office_id,
            version=loaded.head.version,
            personal_data_shown=reveal,
            events=events,
        )
        # Serialised here: FastAPI would validate the model it was just built from again.
        return Response(timeline.model_dump_json(), media_type="application/json")

    return router


def _log_reveal(
    api: Api,
    caller: Principal,
    case: UUID,
    records: list[RecordedEvent],
    events: list[TimelineEvent],
) -> None:
    """Write the read to the access log if it shows any decrypted field (before answering)."""
    persons: dict[UUID, None] = {}
    fields: set[str] = set()
    for rec, shown in zip(records, events, strict=True):
        if shown.personal_data is not PersonalData.REVEALED:
            continue
        if rec.meta.person_ref is not None:
            persons[rec.meta.person_ref] = None
        fields.update(
            name for name in rec.event.personal_fields() if getattr(rec.event, name) is not None
        )
    if not fields:
        return
    if api.reads is None:
        raise RuntimeError("personal data are shown only with an access log (Api.reads)")
    api.reads.record(
        PersonalRead(
            read_at=api.clock(),
            user_id=caller.user_id,
            role=caller.role,
            office_id=caller.office_id,
            case_id=case,
            purpose=PURPOSE,
            persons=tuple(persons),
            fields=tuple(sorted(fields)),
        )
    )
    log.info(
        "personal data of case %s read by %s (%s, office %s)",
        case,
        caller.user_id,
        caller.role.value,
        caller.office_id,
    )
