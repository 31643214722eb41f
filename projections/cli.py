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
