"""``doorstroom demo`` and the demo fill of ``doorstroom run``: fill, then say what happened."""

from __future__ import annotations

import time

from rich.console import Console

from services.bulk import fewer_collections
from services.demo.run import fill_demo
from services.refusals import refusal_of
from services.runtime import Runtime, build_application


async def fill_and_report(rt: Runtime, console: Console) -> int:
    """Fill the demo offices; 0, or 1 if the domain refused a demo command (a demo bug)."""
    started = time.perf_counter()
    app = await build_application(rt)
    with fewer_collections():
        report = await fill_demo(app)
    seconds = time.perf_counter() - started
    offices = ", ".join(f"{nis}: {count}" for nis, count in report.cases.items())
    console.print(
        f"demo data: {sum(report.cases.values())} cases ({offices}), {report.commands} "
        f"commands: {report.stored} stored, {report.already_stored} already stored, "
        f"{len(report.refused)} refused in {seconds:.1f} s",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for command, error in report.refused[:20]:
        refusal = refusal_of(error)
        console.print(f"refused {command.command_name}: {refusal.code}: {refusal.message}")
    return 1 if report.refused else 0
