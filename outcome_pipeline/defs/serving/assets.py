"""``bi_views``: after the outcome tables of a run are written, make them safe for BI to read.

Why an asset downstream of the outcomes rather than a run-success sensor: it runs in the same
run, right after the tables it serves, in every way the pipeline runs (nightly schedule,
sensors, UI backfills, ``dg.materialize``, the CLI) and without the daemon; if the outcomes
fail it does not run, so BI keeps the last good copy; and its materializations show, per
business day, when that day was last served. A ``@dg.run_status_sensor`` would need the daemon
and would publish in the daemon process, outside the run's retries and logs.

- DuckDB warehouse: publish a checked read-only file by atomic rename (``<file>_bi.duckdb``,
  or ``OUTCOME_BI_COPY_PATH``) holding the outcome tables, the load audit and the BI views
  (not staging nor quarantine: raw identifiers). BI tools open the copy, never the
  working file, so they cannot block the nightly run nor see a torn file.
- PostgreSQL warehouse: bring the schema ``<schema>_bi`` (the same tables and views as the
  BI file) up to date in one transaction: the assets of a run commit one by one, so the
  working schema can show tables of two runs during a run; ``<schema>_bi`` shows every table
  as of the last completed publish.
"""

import warnings
from pathlib import Path

import dagster as dg

from outcome_pipeline.defs.automation.freshness import SERVED_BY_MORNING
from outcome_pipeline.defs.automation.retries import WAREHOUSE_RETRY_POLICY, warehouse_errors
from outcome_pipeline.defs.partitions import daily_partitions, window_days
from outcome_pipeline.defs.resources import WarehouseResource
from outcome_pipeline.outcomes import OUTCOME_TABLES
from outcome_pipeline.serving import (
    bi_view_sql,
    default_copy_path,
    duckdb_file,
    publish_duckdb_copy,
    publish_postgres_bi,
)
from outcome_pipeline.settings import Settings
from outcome_pipeline.warehouse.locks import duckdb_writer_lock

warnings.filterwarnings("ignore", message=r".*`backfill_policy`.*", category=dg.BetaWarning)


class BiServingResource(dg.ConfigurableResource):
    """Where the BI copy of a DuckDB warehouse goes (empty: ``<warehouse>_bi.duckdb``)."""

    copy_path: str = ""

    def target_for(self, warehouse_file: Path) -> Path:
        return Path(self.copy_path) if self.copy_path else default_copy_path(warehouse_file)


@dg.asset(
    name="bi_views",
    group_name="serving",
    description=(
        "What BI tools read. DuckDB warehouse: a read-only DuckDB file (default "
        "data/warehouse_bi.duckdb) with the outcome tables, load_audit and the views "
        "bi_daily_outcomes, bi_daily_summary and bi_agent_output_vs_outcome (no staging or "
        "quarantine table: they hold raw emails and phones), published by atomic rename after "
        "each run that wrote the outcome tables. PostgreSQL warehouse: the same tables and "
        "views in the schema <warehouse schema>_bi (e.g. outcome_bi), updated in one "
        "transaction at the end of each run, so every table shows the same run. "
        "Open the copy read-only; reconnect to see a newer copy."
    ),
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=list(OUTCOME_TABLES),
    kinds={"duckdb", "postgres"},
    retry_policy=WAREHOUSE_RETRY_POLICY,
    freshness_policy=SERVED_BY_MORNING,
    metadata={"views": dg.MetadataValue.json(sorted(bi_view_sql("outcome")))},
)
def bi_views(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, bi: BiServingResource
) -> dg.MaterializeResult:
    """Publish the DuckDB copy, or the PostgreSQL BI schema."""
    file = duckdb_file(warehouse.url)
    days = window_days(context.partition_time_window)
    with warehouse_errors(context):
        if file is None:
            with warehouse.open() as wh:
                pub = publish_postgres_bi(wh, refresh=days)
            context.log.info(
                f"published BI schema {pub.schema} in {pub.seconds:.2f}s; partitions copied: "
                f"{pub.partitions_copied}; views replaced: {list(pub.views) or 'none'}"
                + (f"; tables rebuilt: {list(pub.rebuilt)}" if pub.rebuilt else "")
                + (
                    f"; dropped the old BI views {list(pub.dropped_old_views)} from schema "
                    f"{wh.schema}: point BI at {pub.schema}"
                    if pub.dropped_old_views
                    else ""
                )
            )
            return dg.MaterializeResult(
                metadata={
                    "schema": pub.schema,
                    "publish_seconds": round(pub.seconds, 3),
                    "rows_copied": dg.MetadataValue.json(pub.rows_copied),
                    "partitions_copied": dg.MetadataValue.json(pub.partitions_copied),
                    "views_replaced": dg.MetadataValue.json(list(pub.views)),
                    "tables_rebuilt": dg.MetadataValue.json(list(pub.rebuilt)),
                }
            )
        # Reads the warehouse file: not while a parallel run writes it.
        with duckdb_writer_lock(file, context.log.info):
            published = publish_duckdb_copy(
                file,
                bi.target_for(file),
                warehouse.schema_name,
                refresh=days,
            )
    context.log.info(
        f"published BI copy {published.path} ({published.bytes / 1e6:.1f} MB) "
        f"in {published.seconds:.2f}s"
        + (" (rebuilt)" if published.rebuilt else "")
        + f"; partitions copied: {published.partitions_copied}"
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(published.path)),
            "bytes": published.bytes,
            "publish_seconds": round(published.seconds, 3),
            "row_counts": dg.MetadataValue.json(published.row_counts),
            "partitions_copied": dg.MetadataValue.json(published.partitions_copied),
            "rebuilt": published.rebuilt,
        }
    )


@dg.definitions
def serving() -> dg.Definitions:
    return dg.Definitions(
        assets=[bi_views],
        resources={"bi": BiServingResource(copy_path=Settings.from_env().bi_copy_path)},
    )
