"""Reading a case: ``GET /cases/{case_id}/timeline``, its events in order.

Any role of the owning office reads the timeline; personal fields are decrypted only for
the roles of ``services.access.REVEALS`` (each such read is logged), shown as erased after
the person's key was destroyed, and left out for every other role. A case of another
office, or one that does not exist, is 404 alike.
"""

from __future__ import annotations

import logging
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path

from services import access
from services.http.deps import ApiDep, Caller, context_for
from services.http.problems import ProblemError, problem_responses
from services.http.views import Timeline, TimelineEvent

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
    ) -> Timeline:
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
        if reveal:
            log.info(
                "personal data of case %s read by %s (%s, office %s)",
                case,
                caller.user_id,
                caller.role.value,
                caller.office_id,
            )
        records = await api.store.read_case(case, up_to_seq=loaded.head.last_seq, reveal=reveal)
        return Timeline(
            case_id=case,
            office_id=caller.office_id,
            version=loaded.head.version,
            personal_data_shown=reveal,
            events=[TimelineEvent.of(rec, revealed=reveal) for rec in records],
        )

    return router
