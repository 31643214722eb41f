"""``doorstroom projections``: run the projection worker, show positions and lag."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Annotated

import typer

from services.settings import Settings

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


@projections_app.command("run")
def run(
    name: NameOption = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Events per transaction.")
    ] = 1000,
) -> None:
    """Follow the stream into the read models until SIGTERM/SIGINT (the batch in hand commits)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    _check(name)
    asyncio.run(_run(Settings(), name, batch_size))


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
                rt.nc, settings, rt.registry, select(names), stop, batch_size=batch_size
            )
        except ProjectionError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from exc


@projections_app.command("status")
def status(name: NameOption = None) -> None:
    """Per projection: its checkpoint, the stream's last sequence and the lag in events."""
    _check(name)

    async def go() -> None:
        from projections.catalogue import select
        from projections.worker import statuses
        from services.runtime import open_runtime

        async with open_runtime() as rt:
            for s in await statuses(rt.nc, rt.settings, select(name)):
                typer.echo(
                    f"{s.key}: position {s.position}, stream last sequence {s.last_seq}, "
                    f"lag {s.lag} events (updated {s.updated_at or 'never'})"
                )

    asyncio.run(go())
