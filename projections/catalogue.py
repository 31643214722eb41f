"""Every projection the worker knows; add a new read model here."""

from __future__ import annotations

from projections.case_directory import case_directory
from projections.caseload import caseload
from projections.placements import placements
from projections.projection import Projection
from projections.subsidies import subsidy_history

PROJECTIONS: tuple[Projection, ...] = (case_directory, caseload, placements, subsidy_history)


def select(names: list[str] | None) -> list[Projection]:
    """The projections named (``case_directory`` or ``case_directory.v1``), or all of them."""
    if not names:
        return list(PROJECTIONS)
    by_name = {p.name: p for p in PROJECTIONS} | {p.key: p for p in PROJECTIONS}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        known = ", ".join(p.key for p in PROJECTIONS)
        raise LookupError(f"unknown projection(s) {', '.join(unknown)}; known: {known}")
    return list(dict.fromkeys(by_name[n] for n in names))
