"""``doorstroom projections``: run the projection worker, show positions and lag."""

from __future__ import annotations

import asyncio
import logging
import signal
from enum import StrEnum
from typing import Annotated

import typer

from services.settings import Settings

progress_log = logging.getLogger("doorstroom.projections.progress")

projections_app = typer.Typer(help="Read models fed from the event stream.", no_args_is_help=True)

NameOption = Annotated[
    list[str] | None,
    typer.Option("--name", help="Projection to run (repeatable); default: all of them."),
]


def _check(names: list[str] | None) -> None:
    from projections.catalogue import select

    try:
        select(names)
    except LookupError as exc:
        raise typer.BadParameter(str(exc), param_hint="--name") from exc


class LogLevel(StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"


@projections_app.command("run")
def run(
    name: NameOption = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Events per transaction.")
    ] = 1000,
    log_level: Annotated[
        LogLevel, typer.Option(help="Doorstroom's log level; `debug` logs every committed batch.")
    ] = LogLevel.info,
) -> None:
    """Follow the stream into the read models until SIGTERM/SIGINT (the batch in hand commits)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("doorstroom").setLevel(log_level.value.upper())
    _check(name)
    asyncio.run(_run(Settings(), name, batch_size))


def log_progress(key: str, position: int) -> None:
    """The worker's progress report: one debug line per committed batch."""
    progress_log.debug("%s: committed up to stream sequence %d", key, position)


async def _run(settings: Settings, names: list[str] | None, batch_size: int) -> None:
    from projections.catalogue import select
    from projections.projection import ProjectionError
    from projections.worker import run_projections
    from services.runtime import open_runtime

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_runtime(settings) as rt:
        try:
            await run_projections(
                rt.nc,
                settings,
                rt.registry,
                select(names),
                stop,
                batch_size=batch_size,
                progress=log_progress,
            )
        except ProjectionError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from exc


@projections_app.command("status")
def status(name: NameOption = None) -> None:
    """Per projection: its checkpoint, the stream's last sequence, the lag in events and seconds.

    Lag in seconds: how long the oldest event the projection has not applied yet has been
    stored in the stream (its JetStream storage time to now); 0 when caught up.
    """
    _check(name)

    async def go() -> None:
        from projections.catalogue import select
        from projections.status import lag_in
        from services.runtime import open_runtime

        async with open_runtime() as rt:
            settings = rt.settings
            for s in await lag_in(rt.nc, settings.stream, settings.db_url, select(name)):
                typer.echo(
                    f"{s.key}: position {s.position}, stream last sequence {s.last_seq}, "
                    f"lag {s.lag_events} events, {s.lag_seconds:.1f} s "
                    f"(updated {s.updated_at or 'never'})"
                )

    asyncio.run(go())


@projections_app.command("rebuild")
def rebuild_command(
    names: Annotated[
        list[str] | None, typer.Argument(help="Projections to rebuild (name or name.vN).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Rebuild every projection.")] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=50_000, help="Events per transaction.")
    ] = 5000,
) -> None:
    """Replay from the first event into new tables, then swap them in atomically.

    The old tables keep answering queries until the swap; a running worker continues from
    the rebuilt checkpoint.
    """
    if bool(names) == all_:
        raise typer.BadParameter("name the projections to rebuild, or give --all")
    _check(names)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(_rebuild(Settings(), None if all_ else names, batch_size))


async def _rebuild(settings: Settings, names: list[str] | None, batch_size: int) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from events.subjects import Subjects
    from projections.catalogue import select
    from projections.projection import ProjectionError
    from projections.rebuild import rebuild
    from services.runtime import open_runtime

    projections = select(names)
    async with open_runtime(settings) as rt:
        info = await rt.nc.jetstream().stream_info(settings.stream)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,.0f}/{task.total:,.0f} events"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        keys = ", ".join(p.key for p in projections)
        with Progress(*columns) as bar:
            task = bar.add_task(f"rebuilding {keys}", total=int(info.state.last_seq), rate="")

            def advance(position: int) -> None:
                speed = bar.tasks[task].speed
                rate = f"{speed:,.0f} events/s" if speed else ""
                bar.update(task, completed=position, rate=rate)

            try:
                result = await rebuild(
                    rt.nc,
                    settings.db_url,
                    stream=settings.stream,
                    subjects=Subjects(settings.subject_prefix),
                    registry=rt.registry,
                    projections=projections,
                    batch_size=batch_size,
                    progress=advance,
                )
            except ProjectionError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(1) from exc
    typer.echo(
        f"rebuilt {', '.join(result.keys)} to stream sequence {result.position}: "
        f"{result.events} events in {result.seconds:.1f} s ({result.events_per_s:,.0f} events/s)"
    )
