"""Reports over HTTP: ``GET /reports/{name}``, for the caller's office only.

Each request replays the stream into memory (see ``projections.reports``), true on ``on``
and as known on ``known_on``; the live read models are untouched. Reports are for the head
of service and for finance staff (domain.md section 4); other roles get 403.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from events.base import Role
from events.envelope import BRUSSELS
from services.http.deps import ApiDep, Caller
from services.http.problems import ProblemError, problem_responses

REPORT_ROLES: Final = frozenset({Role.HEAD_OF_SERVICE, Role.FINANCE})
MEDIA: Final = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "table": "text/plain; charset=utf-8",
    "png": "image/png",
    "svg": "image/svg+xml",
}


def reports_router() -> APIRouter:
    router = APIRouter(prefix="/reports", tags=["reports"])

    @router.get(
        "/{name}",
        responses=problem_responses(401, 403, 404, 422),
        summary="A report of the caller's office, true on a date and as known on a date",
        operation_id="report",
    )
    async def report(
        name: Annotated[str, Path(description="Report name, e.g. subsidy-ledger.")],
        api: ApiDep,
        caller: Caller,
        on: Annotated[date | None, Query(description="True on this business date.")] = None,
        known_on: Annotated[
            date | None, Query(description="As known at the end of this day (Brussels).")
        ] = None,
        year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
        fmt: Annotated[
            Literal["json", "csv", "table", "png", "svg"], Query(alias="format")
        ] = "json",
    ) -> Response:
        from projections.reports import REPORTS, Params, generate
        from projections.reports.charts import CHARTS
        from projections.reports.render import render
        from projections.rules import default_rules

        if caller.role not in REPORT_ROLES:
            raise ProblemError(
                403, "forbidden_for_role", "Forbidden", f"{caller.role.value} may not read reports"
            )
        if name not in REPORTS:
            raise ProblemError(
                404, "unknown_report", "Unknown report", f"known: {', '.join(REPORTS)}", "name"
            )
        if fmt in ("png", "svg") and name not in CHARTS:
            raise ProblemError(
                404, "no_chart", "No chart", f"charts: {', '.join(CHARTS)}", "format"
            )
        day = on or api.clock().astimezone(BRUSSELS).date()
        params = Params(
            on=day,
            known_on=known_on,
            offices=frozenset({caller.office_id}),
            year=year or day.year,
            rules=default_rules(),
        )
        store = api.store
        try:
            table = await generate(
                store.nc,
                name,
                params,
                stream=store.stream,
                subjects=store.subjects,
                registry=store.registry,
            )
        except LookupError as missing:  # e.g. no LAP call holds the date
            raise ProblemError(
                422, "report_not_available", "Report not available", str(missing), "on"
            ) from None
        return Response(render(table, fmt), media_type=MEDIA[fmt])

    return router
