"""Reading the read models over HTTP: caseload, placements and subsidy history of the
caller's office, optionally after a stream sequence; and ``GET /metrics``.

Every answer is one snapshot of one read model with the stream sequence it reflects
(``position``). ``?after_seq=N`` (the ``last_seq`` of a command's answer) waits, at most
``DOORSTROOM_READ_WAIT_S`` seconds, until the projection has applied everything up to
``N``; if it has not by then the answer is ``504 not_caught_up`` with the position reached,
never rows that miss the command. The office always comes from the token; who reads what is
``services.access.READ_MODELS``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Generic, TypeVar
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from events.envelope import BRUSSELS
from projections import checkpoints
from projections.caseload import caseload
from projections.caseload import queries as caseload_q
from projections.caseload.queries import CaseDeadlines, CaseloadRow
from projections.catalogue import PROJECTIONS
from projections.metrics import CONTENT_TYPE, render
from projections.placements import placements
from projections.placements import queries as placements_q
from projections.placements.queries import EmployerLine, PlacementRow
from projections.projection import Projection
from projections.status import lag_report
from projections.subsidies import queries as subsidies_q
from projections.subsidies import subsidy_history
from projections.subsidies.queries import AuditFlag, ClaimHistory, ClaimRow
from services import access
from services.db import Database
from services.http.deps import Api, ApiDep, Caller
from services.http.problems import ProblemError, problem_responses
from services.readmodels import NotBuiltError, ReadModels

T = TypeVar("T")

AfterSeq = Annotated[
    int | None,
    Query(
        ge=0,
        description="Wait until the read model has applied every event up to this stream "
        "sequence (the `last_seq` of a command's answer); 504 if it does not in time.",
    ),
]
OnDay = Annotated[date | None, Query(description="The day asked about; default today.")]


class ReadAnswer(BaseModel, Generic[T]):
    """Rows of one read model of the caller's office, as of one stream sequence."""

    read_model: str = Field(examples=["caseload.v1"])
    office_id: str = Field(examples=["31004"])
    position: int = Field(
        description="The stream sequence the rows reflect: every event up to it, none after."
    )
    data: T


class KindCount(BaseModel):
    trajectory_kind: str | None
    cases: int


class CaseloadCounts(BaseModel):
    """Open cases of the office per current counsellor and per trajectory kind."""

    per_counsellor: dict[str, int]
    per_trajectory_kind: list[KindCount]


def _read_models(api: Api) -> ReadModels:
    if api.read_models is None:
        raise ProblemError(
            503, "read_models_unavailable", "Read models not served", "no read-model database"
        )
    return api.read_models


def _allowed(caller: Caller, read_model: str) -> None:
    if not access.may_read(caller.role, read_model):
        raise ProblemError(
            403,
            "forbidden_for_role",
            "The role may not read this",
            f"the role {caller.role.value} does not read the {read_model} read model",
        )


async def answer(
    api: Api,
    caller: Caller,
    projection: Projection,
    after_seq: int | None,
    fn: Callable[[Database], T],
) -> ReadAnswer[T]:
    """``fn`` on a snapshot of ``projection``'s read model, once it reached ``after_seq``."""
    _allowed(caller, projection.name)
    models = _read_models(api)
    try:
        if after_seq:
            reached = await models.wait_for(projection.key, after_seq, models.max_wait_s)
            if reached < after_seq:
                raise await _behind(api, projection, after_seq, reached, models.max_wait_s)
        snap = await models.read(projection.key, fn)
    except NotBuiltError:
        raise ProblemError(
            503,
            "read_model_not_built",
            "Read model not built yet",
            f"{projection.key} has not been installed by a projection worker yet",
            headers={"Retry-After": "5"},
        ) from None
    return ReadAnswer(
        read_model=projection.key,
        office_id=caller.office_id,
        position=snap.position,
        data=snap.value,
    )


async def _behind(
    api: Api, projection: Projection, after_seq: int, reached: int, waited: float
) -> ProblemError:
    last = await api.store.last_seq()
    if after_seq > last:
        return ProblemError(
            422,
            "unknown_sequence",
            "No such stream sequence",
            f"after_seq {after_seq} is beyond the stream's last sequence {last}",
            "after_seq",
            position=reached,
        )
    return ProblemError(
        504,
        "not_caught_up",
        "Read model not caught up",
        f"{projection.key} is at stream sequence {reached}, not yet {after_seq}, "
        f"after waiting {waited:g} s; ask again",
        "after_seq",
        headers={"Retry-After": "1"},
        position=reached,
    )


def _today(api: Api) -> date:
    return api.clock().astimezone(BRUSSELS).date()


READ_ERRORS = problem_responses(401, 403, 503, 504)


def read_models_router() -> APIRouter:
    router = APIRouter(tags=["read models"], responses=READ_ERRORS)

    @router.get("/caseload", summary="The office's open cases with their current counsellors")
    async def open_cases(
        api: ApiDep, caller: Caller, after_seq: AfterSeq = None
    ) -> ReadAnswer[list[CaseloadRow]]:
        office = caller.office_id
        return await answer(
            api, caller, caseload, after_seq, lambda db: caseload_q.open_cases(db, office)
        )

    @router.get("/caseload/counts", summary="Open cases per counsellor and per trajectory kind")
    async def counts(
        api: ApiDep, caller: Caller, after_seq: AfterSeq = None
    ) -> ReadAnswer[CaseloadCounts]:
        office = caller.office_id

        def read(db: Database) -> CaseloadCounts:
            kinds = caseload_q.counts_per_trajectory_kind(db, office)
            return CaseloadCounts(
                per_counsellor=caseload_q.counts_per_counsellor(db, office),
                per_trajectory_kind=[
                    KindCount(trajectory_kind=k, cases=n)
                    for k, n in sorted(kinds.items(), key=lambda kv: kv[0] or "")
                ],
            )

        return await answer(api, caller, caseload, after_seq, read)

    @router.get("/caseload/deadlines", summary="GPMI terms of the office's open cases on a day")
    async def deadlines(
        api: ApiDep, caller: Caller, on: OnDay = None, after_seq: AfterSeq = None
    ) -> ReadAnswer[list[CaseDeadlines]]:
        office, day = caller.office_id, on or _today(api)
        return await answer(
            api, caller, caseload, after_seq, lambda db: caseload_q.gpmi_deadlines(db, office, day)
        )

    @router.get("/placements", summary="The office's placements (or those current on a day)")
    async def office_placements(
        api: ApiDep,
        caller: Caller,
        current_on: Annotated[date | None, Query(description="Only those current that day.")] = (
            None
        ),
        after_seq: AfterSeq = None,
    ) -> ReadAnswer[list[PlacementRow]]:
        office = caller.office_id
        return await answer(
            api,
            caller,
            placements,
            after_seq,
            lambda db: placements_q.placements_of_office(db, office, current_on=current_on),
        )

    @router.get(
        "/placements/employers",
        summary="Per workplace and placement type: current placements on a day, and all",
    )
    async def employers(
        api: ApiDep, caller: Caller, on: OnDay = None, after_seq: AfterSeq = None
    ) -> ReadAnswer[list[EmployerLine]]:
        office, day = caller.office_id, on or _today(api)
        return await answer(
            api,
            caller,
            placements,
            after_seq,
            lambda db: placements_q.employer_overview(db, office, day),
        )

    @router.get("/subsidies/claims", summary="The office's claim lines as they stand")
    async def claims(
        api: ApiDep, caller: Caller, after_seq: AfterSeq = None
    ) -> ReadAnswer[list[ClaimRow]]:
        office = caller.office_id
        return await answer(
            api,
            caller,
            subsidy_history,
            after_seq,
            lambda db: subsidies_q.claims_of_office(db, office),
        )

    @router.get(
        "/subsidies/claims/{claim_id}",
        summary="A claim with every step of its history and its evidence",
        responses=problem_responses(404),
    )
    async def claim(
        claim_id: UUID, api: ApiDep, caller: Caller, after_seq: AfterSeq = None
    ) -> ReadAnswer[ClaimHistory]:
        office = caller.office_id
        found = await answer(
            api,
            caller,
            subsidy_history,
            after_seq,
            lambda db: subsidies_q.claim_history(db, claim_id, office_id=office),
        )
        if found.data is None:
            raise ProblemError(
                404,
                "claim_not_found",
                "Claim not found",
                "no such claim for your office",
                "claim_id",
            )
        return ReadAnswer(
            read_model=found.read_model,
            office_id=found.office_id,
            position=found.position,
            data=found.data,
        )

    @router.get("/subsidies/audit-flags", summary="Standing claims an auditor should look at")
    async def audit_flags(
        api: ApiDep, caller: Caller, after_seq: AfterSeq = None
    ) -> ReadAnswer[list[AuditFlag]]:
        office = caller.office_id
        return await answer(
            api,
            caller,
            subsidy_history,
            after_seq,
            lambda db: subsidies_q.audit_flags(db, office),
        )

    return router


def metrics_router() -> APIRouter:
    router = APIRouter(tags=["service"])

    @router.get(
        "/metrics",
        summary="Prometheus metrics: position and lag of every projection",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE: {}}}},
    )
    async def metrics(api: ApiDep) -> Response:
        models = _read_models(api)
        stored = await models.run(checkpoints.checkpoints)
        report = await lag_report(api.store.nc, api.store.stream, stored, PROJECTIONS)
        return Response(render(api.store.stream, report), media_type=CONTENT_TYPE)

    return router
