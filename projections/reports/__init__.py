"""Reports: projections built by replay into a throw-away store, true on a business date and
as known on a recording date (see ``replay`` and ``history``)."""

from projections.reports.catalogue import REPORTS, Report, generate, report_names
from projections.reports.model import Params, ReportTable, to_csv, to_json, to_table

__all__ = [
    "REPORTS",
    "Params",
    "Report",
    "ReportTable",
    "generate",
    "report_names",
    "to_csv",
    "to_json",
    "to_table",
]
