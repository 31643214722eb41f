"""Placements: current and past placements by type and employer, with an employer overview."""

from projections.placements.projection import placements
from projections.placements.queries import (
    EmployerLine,
    PlacementRow,
    employer_overview,
    placements_of_case,
    placements_of_office,
)

__all__ = [
    "EmployerLine",
    "PlacementRow",
    "employer_overview",
    "placements",
    "placements_of_case",
    "placements_of_office",
]
