"""Caseload: every case with its office, counsellors, right, trajectory and GPMI deadlines."""

from projections.caseload.deadlines import EvaluationStatus, GpmiDeadlines, GpmiStatus
from projections.caseload.projection import caseload
from projections.caseload.queries import (
    CaseDeadlines,
    CaseloadRow,
    Counsellor,
    counts_per_counsellor,
    counts_per_office,
    counts_per_trajectory_kind,
    get_case,
    gpmi_deadlines,
    open_cases,
)

__all__ = [
    "CaseDeadlines",
    "CaseloadRow",
    "Counsellor",
    "EvaluationStatus",
    "GpmiDeadlines",
    "GpmiStatus",
    "caseload",
    "counts_per_counsellor",
    "counts_per_office",
    "counts_per_trajectory_kind",
    "get_case",
    "gpmi_deadlines",
    "open_cases",
]
