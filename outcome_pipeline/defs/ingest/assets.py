"""Staging assets: one per feed table, daily-partitioned, a partition range per run.

Each asset reads its table's files for every day of the run's window, writes staging,
quarantine, rejected files and the row accounting in ONE transaction, and reports its checks:
a blocking one (a lost file, a quarantine share over the threshold, or broken accounting stop
the downstream assets of the run) and warnings (late rows, schema drift).
"""

import dataclasses
from contextlib import closing
from datetime import date, timedelta

import dagster as dg
import pyarrow as pa

from outcome_pipeline.contracts import CONTRACTS, TableContract
from outcome_pipeline.defs.automation.retries import WAREHOUSE_RETRY_POLICY
from outcome_pipeline.defs.ingest.checks import (
    ACCOUNTING,
    DRIFT_AND_LATE,
    LOAD_OK,
    REFERENCES,
    accounting_check,
    drift_and_late_check,
    load_ok_check,
    references_check,
)
from outcome_pipeline.defs.metadata import column_schema
from outcome_pipeline.defs.partitions import daily_partitions, range_backfill_policy, window_days
from outcome_pipeline.defs.resources import (
    LandingResource,
    ValidationResource,
    WarehouseResource,
)
from outcome_pipeline.ingest.mapping import CompiledMapping, for_table, load_sources
from outcome_pipeline.ingest.raw_file import LandingAccessError
from outcome_pipeline.ingest.read_ahead import read_ahead
from outcome_pipeline.ingest.readiness import (
    ALLOW_EMPTY_DAYS_TAG,
    DAY_TABLE,
    allow_empty_days,
    day_has_files,
    landing_refusal,
)
from outcome_pipeline.ingest.stage_finish import StagedDay, audit_row, finish_day
from outcome_pipeline.ingest.stage_read import ReadDay, read_day
from outcome_pipeline.validation import write_data_docs
from outcome_pipeline.validation.collector import ROWS_PER_GX_PASS, DayValidations
from outcome_pipeline.warehouse import LOAD_AUDIT, PartitionWindow, Warehouse
from outcome_pipeline.warehouse.tables import (
    QUARANTINE_FILES,
    QUARANTINE_TABLES,
    ROWS_NOT_COUNTED,
    STAGING_TABLES,
)


def _describe(contract: TableContract) -> str:
    return (
        f"{contract.description}\n\nGrain: {contract.grain}. Read from "
        f"`<landing>/{contract.feed}/<day>/{contract.name}*.{{csv,jsonl,parquet}}`, typed to the "
        f"feed contract, timestamps in UTC, deduplicated on `{contract.key}` (latest "
        f"`updated_at` wins). Rows that cannot be staged go to `quarantine_{contract.name}` "
        "with their reasons, unreadable files to `quarantine_files`; every day's row "
        "accounting goes to `load_audit`."
    )


def _day_summary(audits: list[dict]) -> str:
    lines = [
        "| day | files | files quarantined | read | duplicates | staged | quarantined | late |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for a in audits:
        lines.append(
            f"| {a['partition_date']} | {a['files']} | {a['files_quarantined']} | "
            f"{a['rows_read']} | {a['rows_duplicate']} | {a['rows_staged']} | "
            f"{a['rows_quarantined']} | {a['rows_late']} |"
        )
    return "\n".join(lines)


def build_staging_asset(contract: TableContract) -> dg.AssetsDefinition:
    staging, quarantine = STAGING_TABLES[contract.name], QUARANTINE_TABLES[contract.name]
    referenced = [STAGING_TABLES[t] for t in sorted(set(contract.references.values()))]
    tables = [staging, quarantine, QUARANTINE_FILES, LOAD_AUDIT, ROWS_NOT_COUNTED, *referenced]
    feed = (("feed", contract.name),)
    reference_specs = (
        [
            dg.AssetCheckSpec(
                REFERENCES,
                asset=staging.name,
                description="Warning: references ("
                + ", ".join(contract.references)
                + ") that match no staged row.",
            )
        ]
        if contract.references
        else []
    )

    @dg.asset(
        name=staging.name,
        group_name="staging",
        description=_describe(contract),
        partitions_def=daily_partitions,
        backfill_policy=range_backfill_policy,
        retry_policy=WAREHOUSE_RETRY_POLICY,
        kinds={"python", "sql"},
        # Referenced tables load first, so that the references check sees the same day.
        deps=[t.name for t in referenced],
        metadata={
            "dagster/table_name": staging.name,
            "dagster/column_schema": column_schema(staging),
        },
        check_specs=[
            dg.AssetCheckSpec(
                LOAD_OK,
                asset=staging.name,
                blocking=True,
                description="No file lost and the quarantine share under the "
                "threshold (OUTCOME_MAX_QUARANTINE_SHARE, default 5%).",
            ),
            dg.AssetCheckSpec(
                ACCOUNTING,
                asset=staging.name,
                blocking=True,
                description="rows_read = rows_staged + rows_quarantined + "
                "rows_duplicate, and load_audit matches the tables.",
            ),
            dg.AssetCheckSpec(
                DRIFT_AND_LATE,
                asset=staging.name,
                description="Warning: columns beyond the contract, rows whose "
                "event time is on another day.",
            ),
            *reference_specs,
        ],
    )
    def _stage(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        landing: LandingResource,
        validation: ValidationResource,
    ) -> dg.MaterializeResult:
        days = window_days(context.partition_time_window)
        vcfg = validation.config()
        validations = DayValidations(landing.timezone, validation.engine, vcfg)
        start, end = days[0], days[-1] + timedelta(days=1)
        staged_days: list[StagedDay] = []
        sources = load_sources(landing.sources_dir, landing.timezone)
        mappings = for_table(sources, contract.name)
        with warehouse.open() as wh:
            wh.create_tables(tables)
            _refuse_empty_days(context, wh, landing, contract, days, sources)
            # One transaction for the whole window: a failure on any day leaves every
            # day of the window as it was before the run.
            windows = [
                PartitionWindow(staging, start, end),
                PartitionWindow(quarantine, start, end),
                PartitionWindow(QUARANTINE_FILES, start, end, feed),
                PartitionWindow(LOAD_AUDIT, start, end, feed),
                PartitionWindow(ROWS_NOT_COUNTED, start, end, feed),
            ]
            with wh.replacing(windows) as insert:
                # Days are read one by one and validated together (one GX pass for up to
                # ROWS_PER_GX_PASS rows: GX's cost per call is paid per pass, not per day),
                # then staged in day order.
                pending: list[ReadDay] = []

                def stage_pending() -> None:
                    failures = validations.validate_days(
                        {r.day: r.latest for r in pending}, contract
                    )
                    for read in pending:
                        result = finish_day(
                            read, failures.get(read.day), daily_partitions.start.date()
                        )
                        _log_day(context, result, landing)
                        insert(staging, result.staged)
                        insert(quarantine, result.quarantined)
                        insert(QUARANTINE_FILES, result.rejected_files)
                        insert(LOAD_AUDIT, pa.Table.from_pylist([audit_row(result)]))
                        insert(ROWS_NOT_COUNTED, result.not_counted)
                        staged_days.append(_counts_only(result))
                    pending.clear()

                run_id = context.run.run_id  # read_one runs in the reader thread

                def read_one(day: date) -> ReadDay:
                    return read_day(
                        landing.path,
                        contract,
                        day,
                        landing.timezone,
                        run_id=run_id,
                        clock_skew_seconds=vcfg.clock_skew_seconds,
                        mappings=mappings,
                    )

                # The next pass's days are read while this one is validated and written.
                ahead = read_ahead(read_one, days, ROWS_PER_GX_PASS, lambda r: r.latest.num_rows)
                with closing(ahead) as reads:
                    for day in days:
                        try:
                            read = next(reads)
                        except LandingAccessError as exc:
                            # Raised inside the transaction: the window's delete is rolled back.
                            raise dg.Failure(
                                description=f"Cannot read a landing file of {contract.name} "
                                f"{day}: {exc}. Nothing was changed: the staged rows of "
                                f"{contract.name} stay as they were. Give the pipeline's user "
                                "read access to the file (or move it out of the landing "
                                "folder), then run the same days again.",
                                allow_retries=False,
                            ) from exc
                        held = sum(r.latest.num_rows for r in pending)
                        if pending and held + read.latest.num_rows > ROWS_PER_GX_PASS:
                            stage_pending()
                        pending.append(read)
                stage_pending()
            # Statistics of what was just staged, before anything reads it (Warehouse.analyze).
            wh.analyze([staging, quarantine, QUARANTINE_FILES, LOAD_AUDIT, ROWS_NOT_COUNTED])
            checks = [
                load_ok_check(staged_days, validations, validation.max_quarantine_share),
                accounting_check(wh, contract, start, end),
                drift_and_late_check(staged_days, validations),
            ]
            if contract.references:
                checks.append(references_check(wh, contract, start, end))
        audits = [audit_row(d) for d in staged_days]
        docs = {}
        if validations.by_day:
            last = max(validations.by_day)
            write_data_docs(
                {contract.name: validations.by_day[last]},
                validation.docs_folder(contract.name),
                last,
            )
            docs = {"data_docs": dg.MetadataValue.url(validation.docs_link(contract.name))}
        # A range run records one materialization per day: each carries its own day's counts.
        for a in audits:
            context.add_asset_metadata(day_counts(a), partition_key=a["partition_date"].isoformat())
        return dg.MaterializeResult(
            metadata={
                "days": dg.MetadataValue.md(_day_summary(audits)),
                "validation_seconds": dg.MetadataValue.json(validations.seconds()),
                "sources": dg.MetadataValue.json(_sources(mappings, staged_days)),
                **docs,
            },
            check_results=checks,
        )

    return _stage


def _sources(mappings: list, days: list[StagedDay]) -> dict[str, object]:
    """Lineage: the mappings this asset applied, and every file it read, by how it was read."""
    return {
        "mappings": {m.lineage: str(m.path) for m in mappings},
        "files": {f.file: f.fmt for d in days for f in d.files},
    }


def day_counts(audit: dict) -> dict[str, int]:
    """One day's row accounting as materialization metadata (``dagster/row_count`` = staged)."""
    return {
        "dagster/row_count": audit["rows_staged"],
        "rows_read": audit["rows_read"],
        "rows_duplicate": audit["rows_duplicate"],
        "rows_quarantined": audit["rows_quarantined"],
        "files_quarantined": audit["files_quarantined"],
        "rows_late": audit["rows_late"],
        "rows_repaired": audit["rows_repaired"],
        "rows_before_start": audit["rows_before_start"],
        "files_read": audit["files"],
    }


def _loaded_days(wh: Warehouse, table: str, days: list[date]) -> list[date]:
    """Days of ``days`` whose last load of ``table`` had files (load_audit)."""
    rows = wh.query(
        f"SELECT DISTINCT partition_date AS d FROM {wh.qualified(LOAD_AUDIT.name)} "
        "WHERE feed = :feed AND files > 0 AND partition_date >= :first "
        "AND partition_date <= :last",
        {"feed": table, "first": days[0], "last": days[-1]},
    ).to_pylist()
    return [r["d"] for r in rows]


def _refuse_empty_days(
    context: dg.AssetExecutionContext,
    wh: Warehouse,
    landing: LandingResource,
    contract: TableContract,
    days: list[date],
    sources: list[CompiledMapping],
) -> None:
    """Fail the step, before anything is deleted, when the run would stage days that have not
    landed (see ``landing_refusal``). Not retried: the files will not appear within the
    retry policy's backoff, and the user must act (or pass the override)."""
    root = landing.path
    root_exists = root.is_dir()
    landed = [d for d in days if root_exists and day_has_files(root, contract, d, sources)]
    day_contract = CONTRACTS[DAY_TABLE]
    day_landed = [d for d in days if root_exists and day_has_files(root, day_contract, d, sources)]
    refusal = landing_refusal(
        root, root_exists, contract, days, landed, day_landed, _loaded_days(wh, contract.name, days)
    )
    if refusal is None:
        return
    if allow_empty_days(context.run.tags):
        context.log.warning(
            f"staging empty days as asked ({ALLOW_EMPTY_DAYS_TAG}=true): {refusal.problem}"
        )
        return
    raise dg.Failure(description=refusal.message, allow_retries=False)


def _counts_only(day: StagedDay) -> StagedDay:
    """Keep what metadata and checks need; drop the staged rows (a long range stays small).

    An empty table of the schema, not ``slice(0, 0)``: a zero-length slice still holds the
    day's buffers (~90 MiB per 1M interactions).
    """
    return dataclasses.replace(day, staged=day.staged.schema.empty_table())


def _log_day(context: dg.AssetExecutionContext, day: StagedDay, landing: LandingResource) -> None:
    if not day.files and not day.files_quarantined:
        context.log.warning(
            f"{day.table} {day.day}: no files under {landing.path}; staged an empty partition"
        )
    for row in day.rejected_files.to_pylist():
        context.log.error(f"{day.table} {day.day}: file quarantined: {row['error']}")
    for f in day.files:
        if f.extra_columns:
            context.log.warning(
                f"{f.file}: columns not in the contract (kept in extra_fields): {f.extra_columns}"
            )
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
    from outcome_pipeline.settings import Settings

    # A broken source mapping stops the code location from loading, with the file, key and
    # line, instead of failing mid-run.
    settings = Settings.from_env()
    load_sources(settings.sources_dir, settings.timezone)
    return dg.Definitions(assets=staging_assets)
