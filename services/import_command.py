"""``doorstroom import``: run the bulk import with a progress bar, report refusals and a summary."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from events.envelope import Actor
from services.bulk import fewer_collections
from services.import_workers import import_on
from services.importer import ImportSummary, rejects_path
from services.offices import Offices
from services.runtime import open_runtime
from services.settings import Settings

SHOW_REJECTS: Final = 20


async def run_import(
    settings: Settings,
    file: Path,
    office: str,
    *,
    default_actor: Actor | None,
    chunk_lines: int,
    workers: int | None = None,
    out: Console,
    err: Console,
) -> int:
    """Import ``file`` for ``office``; exit code 0, or 1 when lines were refused."""
    if office not in Offices.load(settings.offices_file):
        err.print(f"office {office} is not a known office (NIS code)", markup=False)
        return 2
    size = (await asyncio.to_thread(file.stat)).st_size
    columns = (*Progress.get_default_columns()[:1], BarColumn(), DownloadColumn())
    async with open_runtime(settings) as rt:
        with (
            Progress(
                *columns, TimeRemainingColumn(), console=err, disable=not err.is_terminal
            ) as bar,
            fewer_collections(),
        ):
            task = bar.add_task(f"importing {file.name}", total=size)
            summary = await import_on(
                rt,
                file,
                office,
                workers=workers,
                default_actor=default_actor,
                chunk_lines=chunk_lines,
                progress=lambda done: bar.advance(task, done),
            )
    report(summary, file, out)
    return 1 if summary.rejected else 0


def report(summary: ImportSummary, file: Path, out: Console) -> None:
    """Each refused line (the first ones), where all of them are, and the totals."""
    for number, refusal in summary.rejects[:SHOW_REJECTS]:
        field = f" ({refusal.field})" if refusal.field else ""
        out.print(f"line {number}: {refusal.code}{field}: {refusal.message}", markup=False)
    if summary.rejected > SHOW_REJECTS:
        out.print(f"... and {summary.rejected - SHOW_REJECTS} more refused lines", markup=False)
    if summary.rejected:
        out.print(f"refused lines with their reasons: {rejects_path(file)}", markup=False)
    out.print(
        f"read {summary.read}, stored {summary.stored}, already stored "
        f"{summary.already_stored}, rejected {summary.rejected} in {summary.seconds:.2f} s "
        f"({summary.rate:,.0f} commands/s)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
