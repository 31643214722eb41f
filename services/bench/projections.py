"""Read-side benchmark: rebuild rates of the read models, and where the time goes.

Run with ``doorstroom bench projections`` (or call ``run_benchmark``, which returns the
figures as a dict). It starts its own nats-server (or uses DOORSTROOM_NATS_URL), fills a
stream with realistic case histories through the bulk append path, then measures in the
same run, on the same events:

- the raw rate at which nats-py reads the stream (the engine's pull reader, no decoding);
- ``projections rebuild`` (replay plus swap) into SQLite, and into PostgreSQL when a DSN
  is given: the three read models together, every projection together, each one alone;
- the eventsourcing library's own ``Projection`` into an SQLite view, batched;
- the peak RSS of a ``projections rebuild --all`` process;
- a breakdown of one pass per projection into decoding (JSON + pydantic + upcasting) and
  applying (handler Python and SQL statements timed separately).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg

from events.aid import AidRequestReceived, Channel, RequestedAid
from events.base import DomainEvent, Role
from events.codec import RecordedEvent, decode
from events.envelope import Actor, EventMeta, EvidenceRef
from events.gpmi import (
    Agreement,
    AgreementCategory,
    AgreementParty,
    EvaluationOutcome,
    GpmiEvaluated,
    GpmiSigned,
    GpmiSubsidyCode,
)
from events.guidance import CounselorAssigned, CounselorRole, TrajectoryKind, TrajectoryStarted
from events.placements import (
    ContractType,
    MlpMonthRegistered,
    PlacementEnded,
    PlacementEndReason,
    PlacementExtended,
    PlacementStarted,
    PlacementType,
)
from events.registry import registry
from events.rights import LeefloonCategory, LeefloonGranted, LeefloonPaid, RightType
from events.subjects import Subjects
from events.subsidies import (
    ClaimForm,
    SubsidyClaimApproved,
    SubsidyClaimSubmitted,
    SubsidyScheme,
)
from projections import checkpoints
from projections.catalogue import PROJECTIONS
from projections.projection import Projection
from projections.rebuild import REBUILD_BATCH, rebuild
from services.bench import es_projection
from services.bench.server import bench_nats
from services.bench.store import machine
from services.db import Database
from services.jsread import RawMessage, read_batches
from services.settings import Settings
from services.store import CaseHead, Draft, EventStore
from services.stream import provision_event_stream

OFFICES = ("31004", "44021", "24062")
COUNSELLOR = Actor(user_id="u-1042", role=Role.TRAJECTORY_COUNSELLOR)
FINANCE = Actor(user_id="u-2001", role=Role.FINANCE)
EVENTS_PER_CASE = 20


def case_history(case: UUID, n: int) -> list[Draft]:
    """Twenty events of one case: right, counsellors, GPMI, a TWE placement, payments, claims."""
    office, person = OFFICES[n % len(OFFICES)], uuid4()
    grant, gpmi, placement, trajectory = uuid4(), uuid4(), uuid4(), uuid4()
    start = date(2025, 1, 1) + timedelta(days=n % 200)
    agreement = Agreement(
        agreement_id=uuid4(), party=AgreementParty.CLIENT, category=AgreementCategory.WORK_SEARCH
    )
    events: list[tuple[int, DomainEvent, Actor]] = [
        (
            0,
            AidRequestReceived(channel=Channel.COUNTER, requested=RequestedAid.LEEFLOON),
            COUNSELLOR,
        ),
        (
            14,
            LeefloonGranted(
                decision_id=grant,
                bcsd_session_on=start + timedelta(days=14),
                right_type=RightType.LEEFLOON,
                category=LeefloonCategory.ALLEENSTAAND,
                monthly_amount_cents=131420,
                rate_valid_from=date(2025, 2, 1),
                effective_from=start,
                gpmi_required=True,
            ),
            COUNSELLOR,
        ),
        (
            15,
            CounselorAssigned(
                role=CounselorRole.SOCIAL_WORKER,
                counselor_user_id=f"u-{n % 40}",
                assigned_from=start + timedelta(days=15),
            ),
            COUNSELLOR,
        ),
        (
            15,
            CounselorAssigned(
                role=CounselorRole.JOB_COACH,
                counselor_user_id=f"u-{n % 17 + 100}",
                assigned_from=start + timedelta(days=15),
            ),
            COUNSELLOR,
        ),
        (20, TrajectoryStarted(trajectory_id=trajectory, kind=TrajectoryKind.WERK), COUNSELLOR),
        (
            40,
            GpmiSigned(
                gpmi_id=gpmi,
                agreements=(agreement,),
                document_ref="doc-1",
                subsidy_code=GpmiSubsidyCode.GPMI,
            ),
            COUNSELLOR,
        ),
        (60, LeefloonPaid(grant_decision_id=grant, month="2025-03", amount_cents=131420), FINANCE),
        (
            70,
            SubsidyClaimSubmitted(
                claim_id=(claim := uuid4()),
                scheme=SubsidyScheme.RMI_BASE,
                period="2025-03",
                amount_cents=72281,
                form=ClaimForm.B,
                tier_percent=55,
                decision_id=grant,
            ),
            FINANCE,
        ),
        (
            75,
            SubsidyClaimSubmitted(
                claim_id=uuid4(),
                scheme=SubsidyScheme.GPMI,
                period="2025-03",
                amount_cents=13142,
                form=ClaimForm.B,
                tier_percent=10,
                gpmi_id=gpmi,
            ),
            FINANCE,
        ),
        (
            90,
            GpmiEvaluated(gpmi_id=gpmi, in_person=True, outcome=EvaluationOutcome.ON_TRACK),
            COUNSELLOR,
        ),
        (
            100,
            PlacementStarted(
                placement_id=placement,
                placement_type=PlacementType.TWE_ART60,
                employer_kbo="0207437468",
                placed_with_kbo="0456789133",
                hours_per_week=Decimal(19),
                contract=ContractType.WERKERVARINGSOVEREENKOMST,
                starts_on=start + timedelta(days=100),
                planned_end=start + timedelta(days=465),
            ),
            COUNSELLOR,
        ),
        (110, SubsidyClaimApproved(claim_id=claim, amount_cents=72281), FINANCE),
        (
            130,
            MlpMonthRegistered(
                placement_id=placement, month="2025-06", registered_on=start + timedelta(days=130)
            ),
            COUNSELLOR,
        ),
        (
            160,
            MlpMonthRegistered(
                placement_id=placement, month="2025-07", registered_on=start + timedelta(days=160)
            ),
            COUNSELLOR,
        ),
        (
            170,
            GpmiEvaluated(gpmi_id=gpmi, in_person=False, outcome=EvaluationOutcome.ON_TRACK),
            COUNSELLOR,
        ),
        (180, LeefloonPaid(grant_decision_id=grant, month="2025-06", amount_cents=131420), FINANCE),
        (
            250,
            GpmiEvaluated(gpmi_id=gpmi, in_person=True, outcome=EvaluationOutcome.ON_TRACK),
            COUNSELLOR,
        ),
        (
            300,
            PlacementExtended(placement_id=placement, planned_end=start + timedelta(days=600)),
            COUNSELLOR,
        ),
        (
            320,
            SubsidyClaimSubmitted(
                claim_id=uuid4(),
                scheme=SubsidyScheme.ART60,
                period="2025-09",
                amount_cents=131420,
                form=ClaimForm.B,
            ),
            FINANCE,
        ),
        (
            400,
            PlacementEnded(
                placement_id=placement, reason=PlacementEndReason.HIRED, hired_by_kbo="0456789133"
            ),
            COUNSELLOR,
        ),
    ]
    evidence = (EvidenceRef(kind="document", ref="doc-1"),)
    return [
        Draft(
            EventMeta(
                event_id=uuid4(),
                office_id=office,
                case_id=case,
                occurred_on=start + timedelta(days=day),
                recorded_at=datetime.combine(start + timedelta(days=day + 1), clock(9), UTC),
                actor=actor,
                evidence=evidence,
                correlation_id=uuid4(),
                person_ref=person,
            ),
            event,
        )
        for day, event, actor in events
    ]


async def fill(store: EventStore, events: int) -> float:
    """Append ``events`` (whole case histories) through the bulk path; returns seconds."""
    cases = max(1, events // EVENTS_PER_CASE)
    seconds = 0.0
    for first in range(0, cases, 200):
        items = [
            (CaseHead(case := uuid4()), case_history(case, n))
            for n in range(first, min(first + 200, cases))
        ]
        started = time.perf_counter()
        for result in await store.append_many(items):
            if isinstance(result, Exception):
                raise result
        seconds += time.perf_counter() - started
    return seconds


@contextmanager
def fresh_sqlite(directory: Path) -> Iterator[str]:
    path = directory / f"{uuid4().hex}.sqlite3"
    yield f"sqlite:///{path}"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


READ_MODELS = ("caseload", "placements", "subsidy_history")


async def rebuild_rate(
    store: EventStore, url: str, projections: Sequence[Projection], batch_size: int
) -> dict[str, float]:
    """``projections rebuild`` of ``projections`` from the whole stream, swap included."""
    started = time.perf_counter()
    result = await rebuild(
        store.nc,
        url,
        stream=store.stream,
        subjects=store.subjects,
        registry=store.registry,
        projections=projections,
        batch_size=batch_size,
    )
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "events_per_s": round(result.events / seconds),
        "replay_events_per_s": round(result.events_per_s),
    }


async def rebuild_rates(
    store: EventStore, urls: Callable[[], AbstractContextManager[str]], batch_size: int
) -> dict[str, Any]:
    """The three read models together, all projections together, and each one alone."""
    by_name = {p.name: p for p in PROJECTIONS}
    out: dict[str, Any] = {}
    with urls() as url:
        out["read_models"] = await rebuild_rate(
            store, url, [by_name[n] for n in READ_MODELS], batch_size
        )
    with urls() as url:
        out["all"] = await rebuild_rate(store, url, PROJECTIONS, batch_size)
    out["alone"] = {}
    for projection in PROJECTIONS:
        with urls() as url:
            out["alone"][projection.key] = await rebuild_rate(store, url, [projection], batch_size)
    return out


@contextmanager
def fresh_postgres(dsn: str) -> Iterator[str]:
    """A schema of its own on the PostgreSQL server, dropped afterwards."""
    schema = f"bench_{uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in dsn else "?"
    try:
        yield f"{dsn}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


async def raw_read(store: EventStore, batch_size: int) -> dict[str, float]:
    """nats-py reading the stream with the engine's reader, nothing else."""
    started = time.perf_counter()
    count = 0
    async for raws in read_batches(
        store.nc, store.stream, store.subjects.all_events, batch=batch_size
    ):
        count += len(raws)
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "events_per_s": round(count / seconds)}


async def worker_rss(nats_url: str, settings: Settings, db_url: str) -> dict[str, float]:
    """A rebuild of every projection in a process of its own: its peak RSS and rate."""
    from services.bench.rebuild import run_child  # the child's module imports this one

    figures = await run_child(nats_url, settings.stream, db_url, alone=False)
    return {
        "peak_rss_mb": figures["peak_rss_mb"],
        "seconds": figures["together_seconds"],
        "events_per_s": figures["together_events_per_s"],
    }


@dataclass
class TimedTx:
    """The transaction handlers see, timing every SQL statement it runs."""

    db: Database
    sql_s: float = 0.0
    postgres: bool = False

    def __post_init__(self) -> None:
        self.postgres = self.db.postgres

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        started = time.perf_counter()
        try:
            return self.db.execute(statement, params)
        finally:
            self.sql_s += time.perf_counter() - started


def apply_pass(
    projection: Projection, url: str, raws: list[RawMessage], batch_size: int
) -> dict[str, float]:
    """One catch-up pass as the engine's ``_write`` does it, with decode, handler and SQL timed."""
    db = Database.connect(url)
    try:
        position = checkpoints.install(db, projection)
        timed = TimedTx(db)
        decode_s = total_s = 0.0
        wanted = [r for r in raws if projection.handler(r.subject.rsplit(".", 1)[-1])]
        started = time.perf_counter()
        for first in range(0, len(wanted), batch_size):
            batch = wanted[first : first + batch_size]
            with checkpoints.transaction(db):
                checkpoints.advance(db, projection.key, position, batch[-1].seq)
                for raw in batch:
                    t0 = time.perf_counter()
                    rec: RecordedEvent = decode(raw.data, registry(), seq=raw.seq)
                    decode_s += time.perf_counter() - t0
                    handler = projection.handler(rec.name)
                    assert handler is not None
                    handler(timed, rec)
            position = batch[-1].seq
        total_s = time.perf_counter() - started
        return {
            "events": len(wanted),
            "total_s": round(total_s, 3),
            "decode_s": round(decode_s, 3),
            "sql_s": round(timed.sql_s, 3),
            "handler_python_s": round(total_s - decode_s - timed.sql_s, 3),
        }
    finally:
        db.close()


async def run_benchmark(
    *,
    events: int,
    batch_size: int,
    log: Callable[[str], None],
    postgres: str | None = None,
    rebuild_batch: int = REBUILD_BATCH,
) -> dict[str, Any]:
    """Every read-side figure of one run on one stream, as a dict (JSON-ready)."""
    async with bench_nats() as bench:
        directory, url, nc = bench.directory, bench.url, bench.nc
        settings = Settings(data_dir=directory, stream="BENCHREAD")
        await provision_event_stream(nc.jetstream(), settings)
        store = EventStore(
            nc, stream=settings.stream, subjects=Subjects(), registry=registry(), sealer=None
        )
        out: dict[str, Any] = {
            "machine": machine(),
            "batch_size": batch_size,
            "rebuild_batch": rebuild_batch,
        }
        log(f"filling the stream with {events} events")
        fill_s = await fill(store, events)
        out["stream_events"] = total = await store.last_seq()
        out["fill_events_per_s"] = round(total / fill_s)

        log("raw read: nats-py, pull consumer with a message callback")
        out["raw_read"] = await raw_read(store, batch_size)
        log("rebuilds into SQLite")
        out["sqlite"] = await rebuild_rates(store, lambda: fresh_sqlite(directory), rebuild_batch)
        if postgres:
            log("rebuilds into PostgreSQL")
            out["postgres"] = await rebuild_rates(
                store, lambda: fresh_postgres(postgres), rebuild_batch
            )
        log("the eventsourcing library's Projection into an SQLite view")
        out["eventsourcing_projection_sqlite"] = await es_projection.run(
            nc,
            store.stream,
            store.subjects.all_events,
            registry(),
            directory / "es-view.sqlite3",
            batch_size,
        )
        log("worker memory: rebuild --all in a process of its own")
        with fresh_sqlite(directory) as db_url:
            out["worker"] = await worker_rss(url, settings, db_url)
        out["alone_events_per_s"] = {
            key: part["events_per_s"] for key, part in out["sqlite"]["alone"].items()
        }

        log("breakdown: decode, handlers, SQL")
        raws = [
            raw
            async for raws in read_batches(nc, store.stream, store.subjects.all_events)
            for raw in raws
        ]
        started = time.perf_counter()
        for raw in raws:
            decode(raw.data, registry(), seq=raw.seq)
        decode_s = time.perf_counter() - started
        out["decode_only"] = {
            "seconds": round(decode_s, 2),
            "events_per_s": round(total / decode_s),
        }
        out["apply"] = {}
        for projection in PROJECTIONS:
            with fresh_sqlite(directory) as db_url:
                out["apply"][projection.key] = await asyncio.to_thread(
                    apply_pass, projection, db_url, raws, batch_size
                )
        return out
