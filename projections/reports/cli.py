"""``doorstroom report NAME``: one report, true on a date, as known on a date, for offices."""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    PNG = "png"
    SVG = "svg"


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


def report(
    name: Annotated[str, typer.Argument(help="Report name; see the README for the list.")],
    office: Annotated[
        list[str] | None,
        typer.Option("--office", help="NIS code of an office (repeat for a region); default all."),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option("--on", help="True on business date D (YYYY-MM-DD); default today."),
    ] = None,
    known_on: Annotated[
        str | None,
        typer.Option("--known-on", help="As known at the end of day K (Brussels); default now."),
    ] = None,
    year: Annotated[
        int | None, typer.Option(help="Reporting year of yearly reports; default the year of D.")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TABLE,
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Replay the stream into memory and print report NAME (live read models stay untouched)."""
    from events.envelope import BRUSSELS
    from projections.reports import REPORTS

    if name not in REPORTS:
        raise typer.BadParameter(f"unknown report; known: {', '.join(REPORTS)}", param_hint="NAME")
    day = _date(on) if on else _today(BRUSSELS)
    known = _date(known_on) if known_on else None
    if fmt in (Format.PNG, Format.SVG) and out is None:
        raise typer.BadParameter("a chart needs --out FILE", param_hint="--out")
    for code in office or []:
        if not (len(code) == 5 and code.isdigit()):
            raise typer.BadParameter(f"{code!r} is not a NIS code", param_hint="--office")
    try:
        data = asyncio.run(_generate(name, day, known, office, year or day.year, fmt))
    except LookupError as missing:  # e.g. no LAP call holds the date
        typer.echo(f"report {name}: {missing}", err=True)
        raise typer.Exit(1) from None
    if out is None:
        sys.stdout.write(data.decode())
    else:
        out.write_bytes(data)
        typer.echo(f"wrote {name} to {out}", err=True)


def _today(tz: object) -> date:
    from datetime import datetime, tzinfo

    assert isinstance(tz, tzinfo)
    return datetime.now(tz).date()


async def _generate(
    name: str, on: date, known_on: date | None, offices: list[str] | None, year: int, fmt: Format
) -> bytes:
    from events.subjects import Subjects
    from projections.reports import Params, generate
    from projections.reports.render import render
    from projections.rules import default_rules
    from services.runtime import open_runtime

    params = Params(
        on=on,
        known_on=known_on,
        offices=frozenset(offices) if offices else None,
        year=year,
        rules=default_rules(),
    )
    async with open_runtime() as rt:
        table = await generate(
            rt.nc,
            name,
            params,
            stream=rt.settings.stream,
            subjects=Subjects(rt.settings.subject_prefix),
            registry=rt.registry,
        )
    return render(table, fmt.value)
