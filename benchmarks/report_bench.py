"""How long the outcome report takes for N days of daily tables shaped like 1M interactions a day.

The report reads only the daily tables (and the load audit and quarantine reason codes), so
its cost depends on their rows, not on the interactions behind them. This writes synthetic
tables with the row counts a 1M-interaction day produces (spine of 6 channels x queue/team
pairs x 4 segments, one row per agent, 1 % of the interactions quarantined), then times
``build_report`` (read and draw apart), twice: the first build pays the imports and font cache.

    python -m benchmarks.report_bench --days 90 [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from outcome_pipeline.contracts.feeds import CHANNELS, CONTRACTS, SEGMENTS
from outcome_pipeline.outcomes import OUTCOME_TABLES
from outcome_pipeline.outcomes.distribution_tables import TTR_BUCKETS
from outcome_pipeline.report import build_report
from outcome_pipeline.warehouse import LOAD_AUDIT, PartitionWrite, Warehouse
from outcome_pipeline.warehouse.tables import QUARANTINE_TABLES, TableDef

TEAMS = ("express", "care_plus", "tech_experts", "sales_desk", "retention_desk", "digital_care")
REASONS = ("bad_type", "missing_required", "bad_value", "malformed_row", "bad_type,bad_value")


def _column(t: pa.DataType, n: int, rng: np.random.Generator) -> pa.Array:
    if pa.types.is_integer(t):
        return pa.array(rng.integers(0, 200, n), t)
    if pa.types.is_floating(t):
        return pa.array(rng.random(n) * 100, t)
    if pa.types.is_boolean(t):
        return pa.array(rng.random(n) < 0.8)
    if pa.types.is_timestamp(t):
        return pa.array([datetime(2024, 6, 1, tzinfo=UTC)] * n, t)
    return pa.array(["x"] * n, t)


def synthetic(table: TableDef, day: date, fixed: dict[str, list], rng) -> pa.Table:
    n = len(next(iter(fixed.values())))
    cols = {}
    for field in table.arrow_schema:
        if field.name == "partition_date":
            cols[field.name] = pa.array([day] * n, pa.date32())
        elif field.name in fixed:
            cols[field.name] = pa.array(fixed[field.name], field.type)
        else:
            cols[field.name] = _column(field.type, n, rng)
    return pa.table(cols, schema=table.arrow_schema)


def day_rows(day: date, agents: int, queues: int, quarantined: int, rng) -> dict[str, pa.Table]:
    pairs = [(f"q{q}", TEAMS[q % len(TEAMS)]) for q in range(queues)]
    spine = [(c, q, t, s) for c in CHANNELS for q, t in pairs for s in (*SEGMENTS, "unknown")]
    dims = {
        "channel": [r[0] for r in spine],
        "queue": [r[1] for r in spine],
        "team": [r[2] for r in spine],
        "segment": [r[3] for r in spine],
    }
    switch = [(a, b) for a in CHANNELS for b in CHANNELS if a != b]
    out = {
        "daily_outcomes": synthetic(OUTCOME_TABLES["daily_outcomes"], day, dims, rng),
        "daily_outputs": synthetic(OUTCOME_TABLES["daily_outputs"], day, dims, rng),
        "daily_agent_output_vs_outcome": synthetic(
            OUTCOME_TABLES["daily_agent_output_vs_outcome"],
            day,
            {
                "team": [TEAMS[i % len(TEAMS)] for i in range(agents)],
                "agent_id": [f"AG-{i:05d}" for i in range(agents)],
            },
            rng,
        ),
        "daily_channel_switches": synthetic(
            OUTCOME_TABLES["daily_channel_switches"],
            day,
            {"from_channel": [a for a, _ in switch], "to_channel": [b for _, b in switch]},
            rng,
        ),
        "daily_time_to_resolution": synthetic(
            OUTCOME_TABLES["daily_time_to_resolution"],
            day,
            {"bucket": [b[0] for b in TTR_BUCKETS], "bucket_order": list(range(1, 8))},
            rng,
        ),
        "daily_churn_by_outcome": synthetic(
            OUTCOME_TABLES["daily_churn_by_outcome"],
            day,
            {"journey_outcome": ["resolved", "unresolved"]},
            rng,
        ),
        LOAD_AUDIT.name: synthetic(LOAD_AUDIT, day, {"feed": list(CONTRACTS)}, rng),
        "quarantine_interactions": synthetic(
            QUARANTINE_TABLES["interactions"],
            day,
            {"reason_code": list(rng.choice(REASONS, quarantined))},
            rng,
        ),
    }
    return out


def load(wh: Warehouse, days: list[date], agents: int, queues: int, quarantined: int) -> None:
    from outcome_pipeline.warehouse.tables import ALL_TABLES

    rng = np.random.default_rng(7)
    wh.create_tables([*ALL_TABLES, *OUTCOME_TABLES.values()])
    for day in days:
        tables = day_rows(day, agents, queues, quarantined, rng)
        defs = {
            **OUTCOME_TABLES,
            LOAD_AUDIT.name: LOAD_AUDIT,
            **{t.name: t for t in QUARANTINE_TABLES.values()},
        }
        wh.replace_partitions(
            [PartitionWrite(defs[n], day, day + timedelta(days=1), t) for n, t in tables.items()]
        )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--agents", type=int, default=4000, help="agents a day (~4 per 1k contacts)")
    p.add_argument("--queues", type=int, default=48, help="queue/team pairs a day")
    p.add_argument("--quarantined", type=int, default=10_000, help="rejected rows a day (1 %%)")
    p.add_argument("--url", default="", help="warehouse URL (default: a DuckDB file in /tmp)")
    a = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="report_bench_"))
    url = a.url or f"duckdb:///{tmp}/warehouse.duckdb"
    schema = f"report_bench_{uuid.uuid4().hex[:8]}"
    wh = Warehouse(url, schema)
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(a.days)]
    t0 = time.perf_counter()
    load(wh, days, a.agents, a.queues, a.quarantined)
    print(f"loaded {a.days} days of daily tables in {time.perf_counter() - t0:.1f}s ({wh.dialect})")
    try:
        for attempt in ("first", "second"):
            t0 = time.perf_counter()
            r = build_report(wh, days[0], days[-1], tmp / "report")
            total = time.perf_counter() - t0
            rows = {k: len(v) for k, v in r.rows.items()}
            print(
                f"{attempt} build: {total:.2f}s (read {r.read_seconds:.2f}s, draw "
                f"{r.draw_seconds:.2f}s); page {r.path.stat().st_size / 1e6:.1f} MB; rows {rows}"
            )
    finally:
        if wh.dialect == "postgresql":
            with wh.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        wh.dispose()


if __name__ == "__main__":
    main()
