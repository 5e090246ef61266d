"""Stand-ins for the staging and outcomes assets whose row counts the serving tests control.

``load_audit`` then ``daily_outcomes`` each write ROWS rows (run tag ``test/rows``) for each
day of their run, through the same ``Warehouse.replace_partitions`` as the real assets: one
transaction per asset, the load audit committed first, then (after ``test/pause`` seconds, the
time the real outcomes take to compute) the outcome table. A reader can tell the old run from
the new by the row counts, and a reader of the working schema can see the two mixed.
"""

import time
from datetime import timedelta

import dagster as dg
import pyarrow as pa

from outcome_pipeline.defs.partitions import daily_partitions, window_days
from outcome_pipeline.defs.resources import WarehouseResource
from outcome_pipeline.outcomes import OUTCOME_TABLES
from outcome_pipeline.warehouse.tables import LOAD_AUDIT
from outcome_pipeline.warehouse.warehouse import PartitionWrite

ROWS_TAG = "test/rows"
PAUSE_TAG = "test/pause"


def outcome_rows(day, n: int) -> pa.Table:
    table = OUTCOME_TABLES["daily_outcomes"]
    rows = [
        {
            "partition_date": day,
            "channel": "phone",
            "queue": f"q{i % 7}",
            "team": f"t{i}",
            "segment": "smb",
            "journeys_started": 2,
            "journeys_ended": 2,
            "resolved_journeys": i % 3,
            "is_final": False,
        }
        for i in range(n)
    ]
    return pa.Table.from_pylist(rows, schema=table.arrow_schema)


@dg.asset(
    name="load_audit",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def synthetic_load_audit(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    n = int(context.run.tags[ROWS_TAG])
    days = window_days(context.partition_time_window)
    rows = [{"partition_date": d, "feed": f"f{i}"} for d in days for i in range(n)]
    with warehouse.open() as wh:
        wh.create_tables([*OUTCOME_TABLES.values(), LOAD_AUDIT])  # as the pipeline's assets do
        wh.replace_partitions(
            [
                PartitionWrite(
                    LOAD_AUDIT,
                    days[0],
                    days[-1] + timedelta(days=1),
                    pa.Table.from_pylist(rows, schema=LOAD_AUDIT.arrow_schema),
                )
            ]
        )
    return dg.MaterializeResult(metadata={"dagster/row_count": len(rows)})


@dg.asset(
    name="daily_outcomes",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[synthetic_load_audit],
)
def synthetic_daily_outcomes(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    n = int(context.run.tags[ROWS_TAG])
    days = window_days(context.partition_time_window)
    table = OUTCOME_TABLES["daily_outcomes"]
    time.sleep(float(context.run.tags.get(PAUSE_TAG, "0")))
    with warehouse.open() as wh:
        wh.replace_partitions(
            [
                PartitionWrite(
                    table,
                    days[0],
                    days[-1] + timedelta(days=1),
                    pa.concat_tables([outcome_rows(d, n) for d in days]),
                )
            ]
        )
    return dg.MaterializeResult(metadata={"dagster/row_count": n * len(days)})
