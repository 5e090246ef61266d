"""The outcome report: charts a CX leader reads at a glance, drawn from the daily tables.

``spec`` declares the charts (SQL over the warehouse, how to read them, their definitions);
``build`` reads and renders them into a self-contained HTML page with PNG files beside it.
No Dagster here: the ``outcome_report`` asset and ``outcome-pipeline report`` call
:func:`build_report`.
"""

from outcome_pipeline.report.build import PAGE_NAME, Report, build_report, read_rows, render
from outcome_pipeline.report.spec import CHARTS, HEADLINE, SUMMARY, Chart, Column, chart_sql

__all__ = [
    "CHARTS",
    "HEADLINE",
    "PAGE_NAME",
    "SUMMARY",
    "Chart",
    "Column",
    "Report",
    "build_report",
    "chart_sql",
    "read_rows",
    "render",
]
