"""Staging assets: one per feed table, daily-partitioned, a partition range per run."""

import warnings
from datetime import timedelta

import dagster as dg
import pyarrow as pa

from outcome_pipeline.contracts import CONTRACTS, TableContract
from outcome_pipeline.defs.metadata import column_schema
from outcome_pipeline.defs.partitions import daily_partitions, window_days
from outcome_pipeline.defs.resources import LandingResource, WarehouseResource
from outcome_pipeline.ingest.readers import LandingFileError
from outcome_pipeline.ingest.stage import StagedDay, audit_row, stage_day
from outcome_pipeline.warehouse import LOAD_AUDIT
from outcome_pipeline.warehouse.tables import QUARANTINE_TABLES, STAGING_TABLES


def _describe(contract: TableContract) -> str:
    return (
        f"{contract.description}\n\nGrain: {contract.grain}. Read from "
        f"`<landing>/{contract.feed}/<day>/{contract.name}*.{{csv,jsonl,parquet}}`, typed to the "
        f"feed contract, timestamps in UTC, deduplicated on `{contract.key}` (latest "
        f"`updated_at` wins). Rows that cannot be typed go to `quarantine_{contract.name}`; "
        "every day's row accounting goes to `load_audit`."
    )


def _day_summary(audits: list[dict]) -> str:
    lines = [
        "| day | files | read | duplicates | staged | quarantined | late |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for a in audits:
        lines.append(
            f"| {a['partition_date']} | {a['files']} | {a['rows_read']} | {a['rows_duplicate']} "
            f"| {a['rows_staged']} | {a['rows_quarantined']} | {a['rows_late']} |"
        )
    return "\n".join(lines)


# Single-run backfills are what the range writes are built for; the flag is beta in 1.13 and
# its warning would greet every `dagster dev` user, so it is silenced for this one parameter.
warnings.filterwarnings("ignore", message=r".*`backfill_policy`.*", category=dg.BetaWarning)


def build_staging_asset(contract: TableContract) -> dg.AssetsDefinition:
    staging, quarantine = STAGING_TABLES[contract.name], QUARANTINE_TABLES[contract.name]

    @dg.asset(
        name=staging.name,
        group_name="staging",
        description=_describe(contract),
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"python", "sql"},
        metadata={
            "dagster/table_name": staging.name,
            "dagster/column_schema": column_schema(staging),
        },
    )
    def _stage(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        landing: LandingResource,
    ) -> dg.MaterializeResult:
        days = window_days(context.partition_time_window)
        start, end = days[0], days[-1] + timedelta(days=1)
        audits: list[dict] = []
        with warehouse.open() as wh:
            wh.create_tables([staging, quarantine, LOAD_AUDIT])
            # One transaction for the whole window: a failure on any day leaves every
            # day of the window as it was before the run.
            with wh.begin() as conn:
                wh.delete_window(conn, staging, start, end)
                wh.delete_window(conn, quarantine, start, end)
                wh.delete_window(conn, LOAD_AUDIT, start, end, (("feed", contract.name),))
                for day in days:
                    try:
                        result = stage_day(landing.path, contract, day, landing.timezone)
                    except LandingFileError as exc:
                        raise dg.Failure(
                            description=f"{contract.name} {day}: {exc}. Nothing was written "
                            "for this run's partitions; fix or remove the file and rerun.",
                            allow_retries=False,
                        ) from None
                    _log_day(context, result, landing)
                    wh.insert_rows(conn, staging, result.staged)
                    wh.insert_rows(conn, quarantine, result.quarantined)
                    audit = audit_row(result)
                    wh.insert_rows(conn, LOAD_AUDIT, pa.Table.from_pylist([audit]))
                    audits.append(audit)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(a["rows_staged"] for a in audits),
                "rows_read": sum(a["rows_read"] for a in audits),
                "rows_duplicate": sum(a["rows_duplicate"] for a in audits),
                "rows_quarantined": sum(a["rows_quarantined"] for a in audits),
                "rows_late": sum(a["rows_late"] for a in audits),
                "files_read": sum(a["files"] for a in audits),
                "days": dg.MetadataValue.md(_day_summary(audits)),
            }
        )

    return _stage


def _log_day(context: dg.AssetExecutionContext, day: StagedDay, landing: LandingResource) -> None:
    if not day.files:
        context.log.warning(
            f"{day.table} {day.day}: no files under {landing.path}; staged an empty partition"
        )
    for f in day.files:
        if f.extra_columns:
            context.log.warning(f"{f.file}: columns not in the contract: {f.extra_columns}")
        if f.missing_columns:
            context.log.warning(f"{f.file}: optional columns missing: {f.missing_columns}")
    context.log.info(
        f"{day.table} {day.day}: read {day.rows_read}, staged {day.rows_staged}, "
        f"duplicates {day.rows_duplicate}, quarantined {day.rows_quarantined}, "
        f"late {day.late_rows}"
    )


staging_assets = [build_staging_asset(c) for c in CONTRACTS.values()]


@dg.definitions
def ingest() -> dg.Definitions:
    return dg.Definitions(assets=staging_assets)
