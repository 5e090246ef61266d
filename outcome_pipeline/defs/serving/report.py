"""``outcome_report``: the outcome report (``outcome_pipeline/report``) rebuilt after each run
that wrote the outcome tables, so the page on the wall screen shows the latest days.

Partitioned like the tables it reads (one single-run range per run). The page covers the last
``OUTCOME_REPORT_DAYS`` business days ending at the latest day ``daily_outcomes`` holds (or the
run's last day, if later), never before ``OUTCOME_START_DATE``: a restatement or a backfill
of older days refreshes the figures but never turns the wall screen back to an older window.
"""

import base64
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from outcome_pipeline.defs.automation.retries import WAREHOUSE_RETRY_POLICY, warehouse_errors
from outcome_pipeline.defs.partitions import daily_partitions, window_days
from outcome_pipeline.defs.resources import WarehouseResource
from outcome_pipeline.outcomes import OUTCOME_TABLES
from outcome_pipeline.report import CHARTS, HEADLINE, build_report
from outcome_pipeline.settings import Settings
from outcome_pipeline.warehouse import Warehouse


def latest_outcome_day(wh: Warehouse) -> date | None:
    """The latest business day with rows in daily_outcomes (None when it is empty)."""
    rows = wh.query(
        f"SELECT max(partition_date) AS d FROM {wh.qualified('daily_outcomes')}"
    ).to_pylist()
    return rows[0]["d"] if rows else None


def report_range(last_day: date, settings: Settings) -> tuple[date, date]:
    """The report's days: ``report_days`` ending at ``last_day``, from the start date on."""
    first = last_day - timedelta(days=settings.report_days - 1)
    return max(first, date.fromisoformat(settings.start_date)), last_day


def headline_markdown(thumbnail: bytes, page: Path) -> str:
    """The headline chart as an inline image, and the page's location, for the Dagster UI."""
    src = "data:image/png;base64," + base64.b64encode(thumbnail).decode("ascii")
    return (
        f"![{HEADLINE}]({src})\n\n[Open the report]({page.resolve().as_uri()}) — `{page.resolve()}`"
    )


@dg.asset(
    name="outcome_report",
    group_name="serving",
    description=(
        "The outcome report: a self-contained HTML page (index.html, charts embedded, no "
        "network needed) and a PNG per chart in OUTCOME_REPORT_DIR (default data/report), "
        "covering the last OUTCOME_REPORT_DAYS (default 28) business days computed: outputs "
        "vs outcomes by team and agent, daily outcome trends with provisional days marked, "
        "journeys (contacts per resolution, channel switches, time to resolution), churn after "
        "resolved vs unresolved journeys and revenue at risk, data quality per feed. Every "
        "figure is SQL over the daily tables."
    ),
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=list(OUTCOME_TABLES),
    kinds={"html", "python"},
    retry_policy=WAREHOUSE_RETRY_POLICY,
)
def outcome_report(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    settings = Settings.from_env()
    run_last = window_days(context.partition_time_window)[-1]
    with warehouse_errors(context), warehouse.open() as wh:
        start, end = report_range(max(run_last, latest_outcome_day(wh) or run_last), settings)
        report = build_report(wh, start, end, Path(settings.report_dir))
    context.log.info(
        f"outcome report {start}..{end} written to {report.path} (read "
        f"{report.read_seconds:.2f}s, drawn {report.draw_seconds:.2f}s)"
    )
    return dg.MaterializeResult(
        metadata={
            "headline": dg.MetadataValue.md(
                headline_markdown(report.headline_thumbnail, report.path)
            ),
            "page": dg.MetadataValue.path(str(report.path.resolve())),
            "report_days": f"{start}..{end}",
            "read_seconds": round(report.read_seconds, 3),
            "draw_seconds": round(report.draw_seconds, 3),
            "chart_rows": dg.MetadataValue.json({c.id: len(report.rows[c.id]) for c in CHARTS}),
        }
    )


@dg.definitions
def report() -> dg.Definitions:
    return dg.Definitions(assets=[outcome_report])
