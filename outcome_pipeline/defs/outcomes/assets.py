"""Journeys and the daily outcome/output tables: one multi-asset over the staged feeds.

The tables are computed together (one pass of DuckDB SQL over the staged rows, see
``outcome_pipeline/outcomes``) and written together: a range run in chunks of C days
(``outcomes/chunks.py``, C sized from a row budget by ``chunk_size``), one engine session and
one transaction per chunk. The as-of time is data, not the clock (``outcomes/as_of.py``): the
end of the latest business day for which interactions files were read, or the
`outcome/as_of` run tag (YYYY-MM-DD).
"""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pyarrow as pa

from outcome_pipeline.defs.automation.retries import WAREHOUSE_RETRY_POLICY
from outcome_pipeline.defs.metadata import column_schema
from outcome_pipeline.defs.partitions import daily_partitions, range_backfill_policy, window_days
from outcome_pipeline.defs.resources import LandingResource, WarehouseResource
from outcome_pipeline.metric_settings import metric_settings, settings_hash
from outcome_pipeline.outcomes import (
    ATTACHED,
    HISTORY_INPUTS,
    LIFETIME_VIEW_SQL,
    OUTCOME_TABLES,
    AttachedInputs,
    InputWindow,
    OutcomeConfig,
    StreamedInputs,
    Zones,
    computed_outcomes,
    input_selects,
    input_window,
    zones,
)
from outcome_pipeline.outcomes.as_of import as_of_day as resolve_as_of_day
from outcome_pipeline.outcomes.as_of import plan_as_of
from outcome_pipeline.outcomes.audit import OUTCOME_AUDIT, audit_rows
from outcome_pipeline.outcomes.chunks import (
    chunk_size,
    describe_chunks,
    failed_range_message,
    plan_chunks,
)
from outcome_pipeline.outcomes.day_summary import summary_markdown
from outcome_pipeline.outcomes.engine import is_out_of_memory, out_of_memory_message
from outcome_pipeline.outcomes.maturity import churn_final_on, churn_pending, final_on_days
from outcome_pipeline.outcomes.shared_reads import SharedReads
from outcome_pipeline.outcomes.write import write_outcomes
from outcome_pipeline.settings import Settings
from outcome_pipeline.validation.config import ValidationConfig
from outcome_pipeline.warehouse import LOAD_AUDIT, PartitionWrite, Warehouse
from outcome_pipeline.warehouse.tables import STAGING_TABLES

AS_OF_TAG = "outcome/as_of"
# daily_outcomes metadata: {"computed": [first, last] | None, "pending": {provisional day:
# business day whose load can make it final}}; read by the nightly schedule.
PENDING_FINAL_KEY = "pending_final_on"
# daily_outcomes metadata: {"computed": [first, last] | None, "pending": {day: [business days
# its 30- / 90-day churn windows close, those still ahead]}}; read by the nightly schedule.
CHURN_FINAL_KEY = "churn_final_on"
# The metric configuration (one place: OutcomeConfig / ValidationConfig, from the environment,
# README "Metric settings"), read when the definitions load: W also shapes the partition
# mappings, the nightly plan and the late-file sensor.
METRIC_CONFIG = OutcomeConfig.from_env()
REPEAT_WINDOW_DAYS = METRIC_CONFIG.repeat_window_days
# Journeys of day D need contacts from W (+ the margin, see input_window) before D.
LOOKBACK_DAYS = REPEAT_WINDOW_DAYS + METRIC_CONFIG.lookback_margin_days
# The CRM feeds are histories read from their first partition (InputWindow.for_input): the
# lineage declares the restatement horizon of them (OUTCOME_LATE_FILE_HORIZON_DAYS), the days
# a late CRM file restates (automation.planning); Dagster cannot map "every earlier day".
CRM_LOOKBACK_DAYS = Settings.from_env().late_file_horizon_days


def run_settings(timezone: str) -> tuple[OutcomeConfig, dict[str, object]]:
    """The outcome configuration of a run and the metric settings it records (the
    ``metric_settings_consistent`` check compares the same record with the stored days')."""
    cfg = OutcomeConfig.from_env(timezone=timezone, repeat_window_days=REPEAT_WINDOW_DAYS)
    return cfg, metric_settings(cfg, ValidationConfig.from_env())


# Every table the outcome step reads or writes (created if missing; the check reads them too).
OUTCOME_STEP_TABLES = (
    *STAGING_TABLES.values(),
    LOAD_AUDIT,
    *OUTCOME_TABLES.values(),
    OUTCOME_AUDIT,
)
# ... and contacts up to D + 1 + H + W decide how they end (a day is final by then). As the
# staging deps' end offset, it makes a multi-run backfill start an outcome run only once the
# staged days that can change it are in: its rows then equal a run after the whole range.
FINAL_AFTER_DAYS = 1 + METRIC_CONFIG.max_journey_days + REPEAT_WINDOW_DAYS


def latest_staged_day(wh: Warehouse, not_after: date | None = None) -> date | None:
    """The latest business day whose interactions really landed: at least one file was read
    for it (``load_audit.files > files_quarantined``). An audit row alone does not count: a
    day staged with no files (a future range, a day staged empty on purpose) says nothing
    about time having passed. ``not_after`` caps it (see ``outcome_tables``)."""
    cap = "" if not_after is None else " AND partition_date <= :not_after"
    rows = wh.query(
        f"SELECT max(partition_date) AS d FROM {wh.qualified(LOAD_AUDIT.name)} "
        f"WHERE feed = 'interactions' AND files > files_quarantined{cap}",
        {} if not_after is None else {"not_after": not_after},
    ).to_pylist()
    return rows[0]["d"] if rows else None


def staged_rows_per_day(wh: Warehouse, first: date, last: date) -> float | None:
    """Mean interactions staged per day over the days ``first``..``last`` that have a
    ``load_audit`` row (None if none has): the volume a chunk's main zone is sized by. A small
    query on the audit table, not a scan of the staged rows."""
    rows = wh.query(
        f"SELECT count(DISTINCT partition_date) AS n, sum(rows_staged) AS r "
        f"FROM {wh.qualified(LOAD_AUDIT.name)} WHERE feed = 'interactions' "
        "AND partition_date BETWEEN :first AND :last",
        {"first": first, "last": last},
    ).to_pylist()
    if not rows or not rows[0]["n"]:
        return None
    return float(rows[0]["r"] or 0) / rows[0]["n"]


def outcome_inputs(
    wh: Warehouse, window: InputWindow, z: Zones, shared: SharedReads | None = None
) -> AttachedInputs | StreamedInputs:
    """What the outcome computation reads (``input_selects``): a DuckDB warehouse file is
    attached to the engine session and read in place; any other warehouse (PostgreSQL) streams
    its rows in chunks into tables of the session (``Warehouse.read_batches``), the feeds the
    run's chunks share read out once per run when ``shared`` is given. Either way Python holds
    no whole input: the rows sit in the engine's buffer manager, under the session's memory
    cap, spilled past it. The context zone is reduced where the rows are."""
    path = wh.duckdb_path
    if path is None:
        selects = input_selects(wh.qualified, window, z)
        if shared is not None:
            return shared.streamed_inputs(selects, window)
        return StreamedInputs(selects, wh.read_batches)
    return AttachedInputs(
        str(path), input_selects(lambda t: f"{ATTACHED}.{wh.qualified(t)}", window, z)
    )


SKIPPED_NOTE = "not computed: no staged interactions on or after this day; tables unchanged"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=name,
            group_name="outcomes",
            description=table.comment,
            kinds={"duckdb", "sql"},
            metadata={
                "dagster/table_name": name,
                "dagster/column_schema": column_schema(table),
            },
            deps=[
                dg.AssetDep(
                    STAGING_TABLES["interactions"].name,
                    partition_mapping=dg.TimeWindowPartitionMapping(
                        start_offset=-LOOKBACK_DAYS, end_offset=FINAL_AFTER_DAYS
                    ),
                ),
                dg.AssetDep(
                    STAGING_TABLES["survey_responses"].name,
                    partition_mapping=dg.TimeWindowPartitionMapping(
                        start_offset=-LOOKBACK_DAYS, end_offset=FINAL_AFTER_DAYS
                    ),
                ),
                *(
                    dg.AssetDep(
                        STAGING_TABLES[n].name,
                        partition_mapping=dg.TimeWindowPartitionMapping(
                            start_offset=-CRM_LOOKBACK_DAYS, end_offset=FINAL_AFTER_DAYS
                        ),
                    )
                    for n in HISTORY_INPUTS
                ),
            ],
        )
        for name, table in OUTCOME_TABLES.items()
    ],
    partitions_def=daily_partitions,
    backfill_policy=range_backfill_policy,
    retry_policy=WAREHOUSE_RETRY_POLICY,
    can_subset=False,
)
def outcome_tables(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    landing: LandingResource,
):
    """Identity resolution, contacts, journeys and the daily tables for the run's days."""
    requested = window_days(context.partition_time_window)
    cfg, settings = run_settings(landing.timezone)
    with warehouse.open() as wh:
        wh.create_tables(OUTCOME_STEP_TABLES)
        wh.create_view("customer_lifetime", LIFETIME_VIEW_SQL)
        as_of_day = resolve_as_of_day(
            context.run.tags.get(AS_OF_TAG),
            lambda not_after: latest_staged_day(wh, not_after),
            datetime.now(UTC),
            landing.timezone,
        )
        plan = plan_as_of(requested, as_of_day, landing.timezone)
        days, skipped = plan.days, plan.skipped
        if skipped:
            context.log.warning(
                f"outcome days {skipped[0]}..{skipped[-1]} skipped: no staged interactions "
                f"after {as_of_day or 'the start'} (their tables are left as they were; the "
                "nightly run computes each day once it is staged)"
            )
        # What the metadata needs of each chunk, gathered as its rows are written (a long
        # range must not hold every chunk's journeys): rows per day, the daily table (small).
        counts: dict[str, dict[date, int]] = {name: {} for name in OUTCOME_TABLES}
        daily_parts: list[pa.Table] = []
        open_journeys = 0
        pending: dict[date, date] = {}
        churn: dict[date, list[date]] = {}
        if plan.instant is not None:
            env = Settings.from_env()
            as_of = plan.instant
            # C from the volume the range's chunks read: their margin day to the last main
            # zone's end (capped at as_of), in load_audit.
            tail = 1 + cfg.max_journey_days + cfg.repeat_window_days
            size = chunk_size(
                (days[-1] - days[0]).days + 1,
                tail,
                env.chunk_rows,
                None
                if env.chunk_days is not None
                else staged_rows_per_day(
                    wh,
                    days[0] - timedelta(days=1),
                    min(days[-1] + timedelta(days=tail), as_of_day or days[-1]),
                ),
                env.chunk_days,
            )
            chunks = plan_chunks(days, size.days)
            # Several chunks streaming from PostgreSQL read the CRM histories and surveys once.
            shared = (
                SharedReads(wh.read_batches, wh.qualified)
                if len(chunks) > 1 and wh.duckdb_path is None
                else None
            )
            context.log.info(
                f"as_of {as_of.isoformat()}; {len(days)} day(s) in {len(chunks)} chunk(s) of at "
                f"most {size.days} days ({size.why}): {describe_chunks(chunks)}"
            )
            # One engine session and one transaction per chunk: peak memory follows the chunk,
            # and a failure keeps the chunks before it (rerunning them is harmless).
            for i, chunk in enumerate(chunks):
                window = input_window(chunk[0], chunk[-1], as_of, cfg)
                z = zones(chunk, cfg, as_of)
                context.log.info(
                    f"chunk {chunk[0]}..{chunk[-1]}: reading interactions "
                    f"{window.start}..{window.end}, contacts to {z.zone_end}"
                )
                try:
                    start, end = chunk[0], chunk[-1] + timedelta(days=1)
                    # The tables go from the engine session into the warehouse in batches
                    # (write_outcomes): memory is the session's cap plus a few batches.
                    with computed_outcomes(
                        outcome_inputs(wh, window, z, shared),
                        chunk,
                        as_of,
                        cfg,
                        memory_limit=env.compute_memory_limit,
                    ) as computed:
                        summary = write_outcomes(
                            wh,
                            computed,
                            start,
                            end,
                            # With the rows, what they were computed with
                            # (metric_settings_consistent).
                            [
                                PartitionWrite(
                                    OUTCOME_AUDIT, start, end, audit_rows(chunk, as_of, settings)
                                )
                            ],
                        )
                except (dg.Failure, dg.RetryRequested):
                    raise
                except Exception as exc:
                    reason = str(exc)
                    if is_out_of_memory(exc):
                        # A setting's consequence, not a fault: say which settings decide it.
                        reason = out_of_memory_message(
                            env.compute_memory_limit,
                            len(chunk),
                            (window.end - window.start).days + 1,
                        )
                        if i == 0:
                            raise dg.Failure(description=reason, allow_retries=False) from exc
                    if i == 0:
                        raise
                    message = failed_range_message(chunks[:i], chunk, chunks[i + 1 :], reason)
                    context.log.error(message)
                    # The cause stays chained: the retry policy classifies it as before.
                    raise RuntimeError(message) from exc
                journey_days = summary.journey_days
                pending.update(
                    final_on_days(
                        chunk, journey_days, as_of_day, REPEAT_WINDOW_DAYS, landing.timezone
                    )
                )
                churn.update(churn_pending(churn_final_on(chunk, journey_days, cfg), as_of_day))
                for name in OUTCOME_TABLES:
                    counts[name].update(summary.rows_per_day[name])
                daily_parts.append(summary.daily_outcomes)
                open_journeys += summary.open_journeys
            if shared is not None:
                context.log.info(
                    f"CRM histories and surveys: {shared.rows_read:,} rows read out once, "
                    f"{shared.rows_reused:,} handed to later chunks from the kept copy"
                )
                shared.close()
    for name in OUTCOME_TABLES:
        metadata: dict[str, object] = {
            "as_of": as_of_day.isoformat() if as_of_day else None,
            "computed_days": f"{days[0]}..{days[-1]}" if days else "none",
            "window_days": len(days),
            # The values every figure of this run was computed with, and their name.
            "metric_settings": dg.MetadataValue.json(settings),
            "metric_settings_hash": settings_hash(settings),
        }
        # One materialization per day of the range (Dagster records every partition of a
        # single-run range): each computed day carries its own row count; a skipped day none.
        for day in days:
            context.add_asset_metadata(
                {"dagster/row_count": counts[name].get(day, 0), "computed": True},
                asset_key=name,
                partition_key=day.isoformat(),
            )
        for day in skipped:
            context.add_asset_metadata(
                {"computed": False, "skipped": SKIPPED_NOTE},
                asset_key=name,
                partition_key=day.isoformat(),
            )
        if skipped:
            metadata["skipped_days"] = f"{skipped[0]}..{skipped[-1]} (not staged yet)"
        if name == "daily_outcomes":
            if daily_parts:
                metadata["outcomes_by_day"] = dg.MetadataValue.md(
                    summary_markdown(pa.concat_tables(daily_parts))
                )
            metadata[PENDING_FINAL_KEY] = dg.MetadataValue.json(
                {
                    "computed": [days[0].isoformat(), days[-1].isoformat()] if days else None,
                    "pending": {d.isoformat(): f.isoformat() for d, f in sorted(pending.items())},
                }
            )
            metadata[CHURN_FINAL_KEY] = dg.MetadataValue.json(
                {
                    "computed": [days[0].isoformat(), days[-1].isoformat()] if days else None,
                    "pending": {
                        d.isoformat(): [f.isoformat() for f in fs]
                        for d, fs in sorted(churn.items())
                    },
                }
            )
        if name == "journeys" and days:
            metadata["open_journeys"] = open_journeys
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)


@dg.definitions
def outcomes() -> dg.Definitions:
    return dg.Definitions(assets=[outcome_tables])
