"""Case directory: one row per case with its office, version, dates and whether it is closed."""

from projections.case_directory.projection import case_directory
from projections.case_directory.queries import CaseRow, cases_of_office, get_case

__all__ = ["CaseRow", "case_directory", "cases_of_office", "get_case"]
