"""Every report by name, and generating one: replay into memory, then compute."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from nats.aio.client import Client as NATS

from events.registry import EventRegistry
from events.subjects import Subjects
from projections.reports.caseload import caseload_report
from projections.reports.facts import report_facts
from projections.reports.ledger import ledger_report
from projections.reports.model import Params, ReportTable
from projections.reports.monthly import monthly_report
from projections.reports.outcomes import (
    aftercare_report,
    cohort_outflow_report,
    sustainable_work_report,
)
from projections.reports.participation import activation_report, lap_report
from projections.reports.replay import memory_database, replay_into
from services.db import Database

Build = Callable[[Database, Params], ReportTable]


@dataclass(frozen=True)
class Report:
    name: str
    build: Build


REPORTS: dict[str, Report] = {
    r.name: r
    for r in (
        Report("caseload", caseload_report),
        Report("monthly-count", monthly_report),
        Report("lap-progress", lap_report),
        Report("activation-rate", activation_report),
        Report("cohort-outflow", cohort_outflow_report),
        Report("aftercare-outcomes", aftercare_report),
        Report("sustainable-work", sustainable_work_report),
        Report("subsidy-ledger", ledger_report),
    )
}


def report_names() -> list[str]:
    return list(REPORTS)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector: a report makes millions of small objects and no
    cycles, and the collector's passes over them cost a third of the computation."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build(db: Database, name: str, params: Params) -> ReportTable:
    """Compute report ``name`` from a store that ``replay_into`` filled."""
    if name not in REPORTS:
        raise LookupError(f"unknown report {name!r}; known: {', '.join(REPORTS)}")
    with _no_cycle_collection():
        return REPORTS[name].build(db, params)


async def generate(
    nc: NATS,
    name: str,
    params: Params,
    *,
    stream: str,
    subjects: Subjects,
    registry: EventRegistry,
) -> ReportTable:
    """Replay the stream (as known on ``params.known_on``) into memory and compute ``name``."""
    if name not in REPORTS:
        raise LookupError(f"unknown report {name!r}; known: {', '.join(REPORTS)}")
    db = memory_database()
    try:
        await replay_into(
            db,
            [report_facts],
            nc,
            stream=stream,
            subjects=subjects,
            registry=registry,
            known_on=params.known_on,
        )
        return await asyncio.to_thread(build, db, name, params)
    finally:
        db.close()
