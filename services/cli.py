"""The ``doorstroom`` command line: run the service, export schemas, erase, audit, benchmark."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer
from rich.console import Console

from events.base import Role
from projections.cli import projections_app
from projections.reports.cli import report as report_command
from services.http.cli import tokens_app
from services.settings import Settings

if TYPE_CHECKING:
    from projections.positions import PositionBoard
    from services.runtime import Runtime

app = typer.Typer(
    name="doorstroom",
    help="Doorstroom: activation trajectories of leefloon recipients, event-sourced on NATS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
schema_app = typer.Typer(help="JSON Schemas of events and commands.", no_args_is_help=True)
audit_app = typer.Typer(help="Tamper evidence: hash chains per case.", no_args_is_help=True)
stream_app = typer.Typer(help="The event stream on JetStream.", no_args_is_help=True)
bench_app = typer.Typer(
    help="Benchmarks (figures, not tests). Without a subcommand: the whole suite.",
    invoke_without_command=True,
)
docs_app = typer.Typer(help="Documents generated from the code.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
app.add_typer(audit_app, name="audit")
app.add_typer(stream_app, name="stream")
app.add_typer(bench_app, name="bench")
app.add_typer(projections_app, name="projections")
app.add_typer(tokens_app, name="tokens")
app.add_typer(docs_app, name="docs")
app.command("report")(report_command)

console = Console(stderr=True)


@app.command()
def run(
    once: Annotated[
        bool, typer.Option(help="Provision, print the status and stop (for smoke tests).")
    ] = False,
    demo: Annotated[
        bool | None,
        typer.Option(
            "--demo/--no-demo",
            help="Fill the demo offices first. Default: only into an empty embedded stream.",
        ),
    ] = None,
    projections: Annotated[
        bool,
        typer.Option(
            "--projections/--no-projections",
            help="Run the projection workers in this process (off when `doorstroom projections "
            "run` runs them elsewhere).",
        ),
    ] = True,
) -> None:
    """The main job: NATS (embedded unless set), the stream, the HTTP API with the read models,
    the NATS commands and the projection workers."""
    from services.http.serve import run_loop

    run_loop(_run(Settings(), once=once, demo=demo, projections=projections))


async def _run(
    settings: Settings, *, once: bool, demo: bool | None = None, projections: bool = True
) -> None:
    from services.runtime import open_runtime

    async with open_runtime(settings, own_server=settings.nats_url is None) as rt:
        info = await rt.js.stream_info(settings.stream)
        where = "embedded nats-server" if rt.server else "external NATS"
        url = rt.server.url if rt.server else settings.nats_url
        console.print(f"[bold]Doorstroom[/bold] on {where} at {url}")
        console.print(
            f"stream {settings.stream}: {info.state.messages} events, "
            f"last sequence {info.state.last_seq}; data dir {settings.data_dir.resolve()}"
        )
        if once:
            return
        if demo or (demo is None and rt.server is not None and info.state.messages == 0):
            from services.demo.command import fill_and_report

            await fill_and_report(rt, console)
        from projections.positions import PositionBoard
        from services.http.app import open_api
        from services.http.serve import serving, settle_heap
        from services.nats_entry import serving_commands
        from services.runtime import build_application

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        assert url is not None
        board = PositionBoard() if projections else None
        workers_stop = asyncio.Event()
        workers = asyncio.create_task(_workers(rt, board, workers_stop)) if board else None
        try:
            async with (
                open_api(rt, board) as api,
                serving(api, settings.http_host, settings.http_port) as http_url,
                serving_commands(await build_application(rt), settings, url),
            ):
                console.print(f"HTTP API at {http_url} (OpenAPI at /openapi.json)")
                console.print(
                    f"answering commands on {settings.subject_prefix}.cmd.<office>.<Command>"
                )
                if workers is not None:
                    console.print("projection workers running")
                console.print("running; stop with Ctrl-C")
                settle_heap()
                await _until(stop, workers)
            console.print("stopping")
        finally:
            workers_stop.set()
            if workers is not None:
                await _stopped(workers)


async def _workers(rt: Runtime, board: PositionBoard, stop: asyncio.Event) -> None:
    """Every projection, reporting each commit to ``board`` (it wakes reads that wait)."""
    from projections.catalogue import PROJECTIONS
    from projections.worker import run_projections

    await run_projections(
        rt.nc, rt.settings, rt.registry, PROJECTIONS, stop, progress=board.advance
    )


async def _until(stop: asyncio.Event, workers: asyncio.Task[None] | None) -> None:
    """Until ``stop`` is set, or the workers end (a projection failed)."""
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait(
            [stopping, *([workers] if workers else [])], return_when="FIRST_COMPLETED"
        )
    finally:
        stopping.cancel()


async def _stopped(workers: asyncio.Task[None]) -> None:
    """Wait for the workers to finish their batch; a failed projection stops the job (exit 1)."""
    from projections.projection import ProjectionError

    try:
        await workers
    except ProjectionError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


@stream_app.command("provision")
def stream_provision() -> None:
    """Create the stream with its safe settings, or check an existing one."""

    async def go() -> None:
        from services.runtime import open_runtime

        async with open_runtime() as rt:
            info = await rt.js.stream_info(rt.settings.stream)
            c = info.config
            typer.echo(
                f"stream {c.name}: subjects={c.subjects} storage={c.storage} "
                f"replicas={c.num_replicas} deny_delete={c.deny_delete} "
                f"deny_purge={c.deny_purge} allow_direct={c.allow_direct} "
                f"allow_atomic={c.allow_atomic} duplicate_window={c.duplicate_window}s "
                f"messages={info.state.messages}"
            )

    asyncio.run(go())


@schema_app.command("export")
def schema_export(directory: Path) -> None:
    """Write a JSON Schema per event and per command into DIRECTORY."""
    from events.schema import export_schemas

    written = export_schemas(directory)
    typer.echo(f"wrote {len(written)} schema files to {directory}")


@docs_app.command("asyncapi")
def docs_asyncapi(
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """The AsyncAPI 3.0 document of the NATS command subjects (JSON), generated from the code."""
    import json

    from services.nats_entry import asyncapi_document

    text = json.dumps(asyncapi_document(Settings()), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote the AsyncAPI document to {out}")


@app.command("import")
def import_commands(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="JSONL, one command a line.")
    ],
    office: Annotated[str, typer.Option(help="NIS code of the office the lines are for.")],
    user: Annotated[str | None, typer.Option(help="Actor of lines that name none.")] = None,
    role: Annotated[Role, typer.Option(help="Role of that actor.")] = Role.OFFICE_SYSTEM,
    chunk_lines: Annotated[int, typer.Option(min=1, help="Lines decided and stored at once.")] = (
        10_000
    ),
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes deciding the lines, a case's lines in one of them; "
            "default: one per core for files of 4 MB and more, else 1.",
        ),
    ] = None,
) -> None:
    """Store the commands of FILE for one office; refused lines go to FILE.rejects.jsonl.

    A line: {"command": "StartPlacement", "body": {...}, "actor": {"user_id": ..., "role": ...}}.
    Running the same file again stores nothing twice (command ids are idempotency keys).
    """
    from pydantic import ValidationError
    from rich.console import Console as Out

    from events.envelope import Actor
    from services.import_command import run_import

    try:
        actor = Actor(user_id=user, role=role) if user else None
    except ValidationError:
        raise typer.BadParameter("letters, digits and _.:/- only", param_hint="--user") from None
    code = asyncio.run(
        run_import(
            Settings(),
            file,
            office,
            default_actor=actor,
            chunk_lines=chunk_lines,
            workers=workers,
            out=Out(),
            err=console,
        )
    )
    raise typer.Exit(code)


@app.command()
def demo() -> None:
    """Fill Blankenberge, Essen and Menen with invented demo cases (a second run adds nothing)."""

    async def go() -> int:
        from services.demo.command import fill_and_report
        from services.runtime import open_runtime

        async with open_runtime() as rt:
            return await fill_and_report(rt, console)

    raise typer.Exit(asyncio.run(go()))


@app.command()
def simulate(
    directory: Annotated[Path, typer.Argument(help="Where the files go (new or empty).")],
    offices: Annotated[int, typer.Option(min=1, help="Offices (the demo's three first).")] = 300,
    clients: Annotated[int, typer.Option(min=1, help="Clients (aid requests).")] = 150_000,
    events: Annotated[
        int | None, typer.Option(min=1, help="About this many events; overrides --clients.")
    ] = None,
    years: Annotated[float, typer.Option(min=0.1, help="Length of the window.")] = 5.0,
    start: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="First day (default: first rule-book day)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 1,
    employers: Annotated[int, typer.Option(min=1, help="Employers in the pool.")] = 3_000,
    phase_months: Annotated[int, typer.Option(min=1, help="Months per import phase.")] = 6,
    import_: Annotated[
        bool, typer.Option("--import", help="Then import every file in the manifest's order.")
    ] = False,
) -> None:
    """Seeded histories of many offices as import files, with a manifest giving their order.

    Import them with --import, or each file of manifest.json in order with
    DOORSTROOM_OFFICES_FILE=DIR/offices.json doorstroom import DIR/FILE --office OFFICE.
    """
    from events.envelope import BRUSSELS
    from services.simulate import SimulationConfig, import_simulation
    from services.simulate import simulate as run_simulation

    config = SimulationConfig(
        offices=offices,
        clients=clients,
        events=events,
        years=years,
        start=start.date() if start else None,
        seed=seed,
        employers=employers,
        phase_months=phase_months,
    )
    today = datetime.now(BRUSSELS).date()
    try:
        manifest = run_simulation(config, directory, today=today, log=console.print)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(
        f"wrote {manifest['commands']} commands (about {manifest['events_estimate']} events) "
        f"of {manifest['clients']} clients in {manifest['offices']} offices, "
        f"{manifest['first_day']} to {manifest['last_day']}: {len(manifest['files'])} files, "
        f"{manifest['transfers']} transfers, {manifest['late_recordings']} late recordings; "
        f"order in {directory / 'manifest.json'}"
    )
    if import_:
        summary = asyncio.run(import_simulation(Settings(), directory, log=console.print))
        typer.echo(
            f"imported: read {summary.read}, stored {summary.stored}, already stored "
            f"{summary.already_stored}, rejected {summary.rejected} in {summary.seconds:.1f} s"
        )
        raise typer.Exit(1 if summary.rejected else 0)


@app.command()
def erase(
    person: Annotated[UUID, typer.Argument(help="The person_ref whose key is destroyed.")],
) -> None:
    """Destroy a person's key: their sealed fields read as erased in every read and replay."""
    from services.runtime import build_vault

    vault = build_vault(Settings())
    try:
        destroyed = vault.erase(person)
        when = vault.erased_at(person)
    finally:
        vault.close()
    state = "key destroyed" if destroyed else "no key was held (tombstone kept)"
    typer.echo(f"person {person}: {state}; erased at {when}")


@app.command("access-log")
def access_log(
    person: Annotated[
        UUID | None, typer.Option(help="Reads of this person's data (person_ref).")
    ] = None,
    case: Annotated[UUID | None, typer.Option(help="Reads of this case.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
) -> None:
    """Who read decrypted personal data, when, of which case, person and fields (for the DPO).

    Without --person or --case every logged read is listed, oldest first.
    """
    import orjson
    from rich.table import Table

    from services.access_log import AccessLog

    log = AccessLog(Settings().vault_url)
    try:
        reads = log.reads(person=person, case=case)
    finally:
        log.close()
    if as_json:
        for read in reads:
            typer.echo(orjson.dumps(read.as_dict()).decode())
        return
    table = Table("read at (UTC)", "user", "role", "office", "case", "persons", "fields", "via")
    for r in reads:
        table.add_row(
            r.read_at.isoformat(timespec="seconds"),
            r.user_id,
            r.role.value,
            r.office_id,
            str(r.case_id),
            "\n".join(str(p) for p in r.persons),
            ", ".join(r.fields),
            r.purpose,
        )
    Console(width=200).print(table)
    typer.echo(f"{len(reads)} reads", err=True)


@app.command("nats-config")
def nats_config(
    directory: Annotated[Path, typer.Argument(help="Where auth.conf and office seeds go.")],
) -> None:
    """Write a nats-server authorisation in which each office publishes only its own subjects."""
    from events.subjects import Subjects
    from services.natsconfig import write_config
    from services.offices import Offices

    settings = Settings()
    offices = Offices.load(settings.offices_file)
    path = write_config(offices, directory, Subjects(settings.subject_prefix))
    typer.echo(f"wrote {path} for {len(list(offices))} offices; seeds in {directory / 'offices'}")


@audit_app.command("export")
def audit_export(file: Path) -> None:
    """Write every stored event of the stream to FILE as JSONL (one stored record a line)."""

    async def go() -> int:
        from events.subjects import Subjects
        from services.audit import export_line, stream_records
        from services.runtime import open_runtime

        async with open_runtime() as rt:
            count = 0
            with file.open("wb") as out:
                async for rec in stream_records(
                    rt.nc, rt.settings.stream, Subjects(rt.settings.subject_prefix).all_events
                ):
                    out.write(export_line(rec))
                    count += 1
            return count

    typer.echo(f"exported {asyncio.run(go())} events to {file}")


@audit_app.command("verify")
def audit_verify(
    from_file: Annotated[
        Path | None, typer.Option("--from", help="Verify an exported JSONL instead.")
    ] = None,
) -> None:
    """Check every case's hash chain; name each changed, removed or reordered event."""
    from services.audit import AuditReport, print_report, read_export, verify

    if from_file is not None:
        report = verify(read_export(from_file))
    else:

        async def go() -> AuditReport:
            from events.subjects import Subjects
            from services.audit import Verifier, stream_records
            from services.runtime import open_runtime

            verifier = Verifier()
            async with open_runtime() as rt:
                async for rec in stream_records(
                    rt.nc, rt.settings.stream, Subjects(rt.settings.subject_prefix).all_events
                ):
                    verifier.feed(rec)
            return verifier.finish()

        report = asyncio.run(go())
    print_report(report, sys.stdout)
    raise typer.Exit(0 if report.ok else 1)


@bench_app.callback()
def bench_suite(
    ctx: typer.Context,
    events: Annotated[int, typer.Option(min=1000, help="Size of the simulated stream.")] = (
        100_000
    ),
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
    postgres_dsn: Annotated[
        str | None, typer.Option(help="Also rebuild into PostgreSQL (a schema of its own).")
    ] = None,
    markdown: Annotated[
        Path | None,
        typer.Option(
            help="Write the table as Markdown; into a file with bench markers (the README), "
            "only between them."
        ),
    ] = None,
    offices: Annotated[int, typer.Option(min=1, help="Simulated offices.")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the simulation.")] = 1,
) -> None:
    """The fixed suite on one server and one simulated stream: ceilings, peer, ours."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.console import Console as Out

    from services.bench.report import markdown_section, table, write_markdown
    from services.bench.suite import SuiteOptions, run_suite

    options = SuiteOptions(events=events, offices=offices, seed=seed, postgres_dsn=postgres_dsn)
    results = asyncio.run(run_suite(options, log=console.print))
    if json_out is not None:
        json_out.write_text(json.dumps(results, indent=2) + "\n")
    Out().print(table(results))
    if markdown is not None:
        write_markdown(markdown, markdown_section(results))
        console.print(f"wrote the table to {markdown}")


@bench_app.command("store")
def bench_store(
    events: Annotated[int, typer.Option(help="Stream size for the case-load test.")] = 1_000_000,
    pipelined: Annotated[
        int, typer.Option(help="Events for publish and pipelined tests.")
    ] = 50_000,
    concurrency: Annotated[int, typer.Option(help="Cases written in parallel.")] = 256,
    case_events: Annotated[int, typer.Option(help="Events per measured case.")] = 50,
    cases: Annotated[int, typer.Option(help="Measured cases.")] = 200,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
) -> None:
    """Write-side figures: raw publish ceiling, pipelined and bulk appends, case loads."""

    from services.bench.store import run_benchmark

    results = asyncio.run(
        run_benchmark(
            events=events,
            pipelined=pipelined,
            concurrency=concurrency,
            case_events=case_events,
            targets=cases,
            log=console.print,
        )
    )
    _emit(results, json_out)


@bench_app.command("projections")
def bench_projections(
    events: Annotated[int, typer.Option(help="Events in the stream.")] = 200_000,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Events per read and per breakdown batch.")
    ] = 1000,
    rebuild_batch: Annotated[
        int, typer.Option(min=1, max=50_000, help="Events per transaction of a rebuild.")
    ] = 5000,
    postgres: Annotated[
        str | None, typer.Option(help="PostgreSQL DSN: also rebuild into PostgreSQL.")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
) -> None:
    """Read-side figures: rebuild rates (SQLite, PostgreSQL), raw read, eventsourcing, RSS."""

    from services.bench.projections import run_benchmark

    results = asyncio.run(
        run_benchmark(
            events=events,
            batch_size=batch_size,
            rebuild_batch=rebuild_batch,
            postgres=postgres,
            log=console.print,
        )
    )
    _emit(results, json_out)


@bench_app.command("report")
def bench_report(
    name: Annotated[
        str, typer.Argument(help="The report to time, e.g. subsidy-ledger, or all of them: all.")
    ],
    events: Annotated[int, typer.Option(min=1, help="Events in the stream.")] = 1_000_000,
    on: Annotated[str, typer.Option(help="Report date YYYY-MM-DD.")] = "2025-12-31",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
) -> None:
    """Reports from scratch by replay over EVENTS events (one stream): replay and compute, timed."""
    from datetime import date

    from projections.reports import REPORTS
    from services.bench.reports import run_benchmark

    if name != "all" and name not in REPORTS:
        known = ", ".join(REPORTS)
        raise typer.BadParameter(f"unknown report; known: {known} (or all)", param_hint="NAME")
    names = list(REPORTS) if name == "all" else [name]
    results = asyncio.run(
        run_benchmark(names=names, events=events, on=date.fromisoformat(on), log=console.print)
    )
    _emit(results, json_out)


@bench_app.command("http")
def bench_http(
    rate: Annotated[float, typer.Option(min=1, help="Commands per second.")] = 200.0,
    seconds: Annotated[float, typer.Option(min=1, help="How long to send.")] = 20.0,
    cases: Annotated[int, typer.Option(min=1, help="Cases the commands go to.")] = 1000,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
) -> None:
    """HTTP figures: a steady rate of commands through the API (uvicorn, httpx), p50/p99."""
    from services.bench.http import run_benchmark
    from services.http.serve import run_loop

    results = run_loop(run_benchmark(rate=rate, seconds=seconds, cases=cases, log=console.print))
    _emit(results, json_out)


@bench_app.command("lag")
def bench_lag(
    rate: Annotated[float, typer.Option(min=1, help="Events appended per second.")] = 500.0,
    seconds: Annotated[float, typer.Option(min=1, help="How long to append.")] = 20.0,
    db: Annotated[
        str | None,
        typer.Option(help="An empty read-model database (URL); default a fresh SQLite file."),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
) -> None:
    """Append to visible in every read model at a steady rate, with the workers running: p50/p99."""
    from services.bench.lag import append_to_visible

    results = asyncio.run(
        append_to_visible(rate=rate, seconds=seconds, db_url=db, log=console.print)
    )
    _emit(results, json_out)


@bench_app.command("import")
def bench_import(
    cases: Annotated[int, typer.Option(min=1, help="Invented cases in the file.")] = 1500,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Import processes; default as doorstroom import.")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
) -> None:
    """Bulk-import figures: a demo-like JSONL file into an empty stream, then again."""
    from services.bench.intake import run_benchmark

    results = asyncio.run(run_benchmark(cases=cases, workers=workers, log=console.print))
    _emit(results, json_out)


def _emit(results: object, json_out: Path | None) -> None:
    import json

    text = json.dumps(results, indent=2)
    typer.echo(text)
    if json_out is not None:
        json_out.write_text(text + "\n")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
