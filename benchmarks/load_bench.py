"""Bulk-load throughput of the warehouse: ``insert_rows`` of one stg_interactions day.

    .venv/bin/python -m benchmarks.load_bench --rows 1000000
    .venv/bin/python -m benchmarks.load_bench --rows 1000000 \\
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The rows are built synthetically (vectorised, seeded) in the shape of the staged
``stg_interactions`` table: 26 columns, ids and e-mails unique per row, low-cardinality
queues/teams/reasons, UTC timestamps, the NULL shares of a generated 1M day. Each engine gets
``--reps`` loads (default 3), each one ``replace_partitions`` of the day into an empty table
(a fresh DuckDB file / PostgreSQL schema: DELETE of the window, bulk insert, COMMIT, all
timed), then one more replacement of the same day over its previous rows (the DELETE then
removes a full day). Prints rows/s, the median and every run. The PostgreSQL schema
``load_bench_<pid>`` is dropped afterwards. The machine is shared: single figures move by
+-20 %; compare medians measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from outcome_pipeline.warehouse import PartitionWrite, Warehouse  # noqa: E402
from outcome_pipeline.warehouse.tables import STAGING_TABLES  # noqa: E402

TABLE = STAGING_TABLES["interactions"]
DAY = date(2024, 3, 4)

CHANNELS = ["voice", "chat", "email", "messaging", "social"]
QUEUES = ["billing", "tech_support", "sales", "retention", "general", "complaints", "moves"]
TEAMS = ["billing_care", "tech_experts", "digital_care", "retention_desk", "frontline"]
REASONS = [
    "bill_query",
    "payment_failed",
    "device_setup",
    "login_issue",
    "new_order",
    "cancel_request",
    "outage",
    "price_rise",
    "moving_home",
    "complaint",
    "upgrade",
    "refund",
]
DISPOSITIONS = ["resolved", "escalated", "transferred", "callback", "abandoned", "no_answer"]
FIRST = ["dylan", "siobhan", "amelia", "oliver", "aisha", "mohammed", "chloé", "zoë", "o'neil"]
LAST = ["wright", "brown", "smith", "patel", "jones", "nguyen", "kowalski", "müller", "o'brien"]
DOMAINS = ["gmail.com", "yahoo.co.uk", "outlook.com", "margie.co.uk", "btinternet.com"]


def _hex_ids(rng: np.random.Generator, prefix: str, n: int) -> pa.Array:
    """``prefix`` + 12 random hex digits per row (unique in practice)."""
    digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    nibbles = rng.integers(0, 16, size=(n, 12), dtype=np.uint8)
    chars = np.empty((n, len(prefix) + 12), np.uint8)
    chars[:, : len(prefix)] = np.frombuffer(prefix.encode(), np.uint8)
    chars[:, len(prefix) :] = digits[nibbles]
    return pa.array(chars.view(f"S{chars.shape[1]}").ravel()).cast(pa.string())


def _pick(rng: np.random.Generator, values: list[str], n: int) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(rng.integers(0, len(values), n)))


def _nulls(rng: np.random.Generator, arr: pa.Array, share: float) -> pa.Array:
    """``arr`` with about ``share`` of its values NULL."""
    null = pa.array(rng.random(len(arr)) < share)
    return pc.if_else(null, pa.scalar(None, arr.type), arr)


def _digits(rng: np.random.Generator, n: int, low: int, high: int) -> pa.Array:
    return pc.cast(pa.array(rng.integers(low, high, n)), pa.string())


def interactions(n: int, seed: int = 7) -> pa.Table:
    """n stg_interactions-shaped rows of one day (vectorised; seconds for 1M rows)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64(DAY.isoformat(), "us").astype(np.int64)
    queued = start + np.sort(rng.integers(0, 86_400, n)) * 1_000_000
    answered = queued + rng.integers(0, 120, n) * 1_000_000
    talk = rng.integers(5, 1_800, n)
    ended = answered + talk * 1_000_000
    updated = ended + rng.integers(0, 1_200, n) * 1_000_000 + rng.integers(0, 1_000_000, n)
    email = pc.binary_join_element_wise(
        _pick(rng, FIRST, n),
        ".",
        _pick(rng, LAST, n),
        _digits(rng, n, 0, 1_000_000),
        "@",
        _pick(rng, DOMAINS, n),
        "",
    )
    spaced = pa.array(rng.random(n) < 0.02)  # untrimmed input, as delivered
    email = pc.if_else(spaced, pc.binary_join_element_wise(" ", email, "  ", ""), email)
    phone = pc.binary_join_element_wise(
        "07", _digits(rng, n, 100, 1_000), " ", _digits(rng, n, 100_000, 1_000_000), ""
    )
    agent = pc.binary_join_element_wise(
        "AG-",
        _pick(rng, ["TEC", "BIL", "DIG", "RET", "FRO"], n),
        "-",
        _digits(rng, n, 1_000, 10_000),
        "",
    )
    channel = _pick(rng, CHANNELS, n)
    source = pc.binary_join_element_wise(
        f"interactions/{DAY.isoformat()}/interactions_", channel, ".jsonl", ""
    )
    extra = pa.array(np.where(rng.random(n) < 0.01, '{"campaign": "spring \\"24\\""}', None))
    ts = pa.timestamp("us", tz="UTC")
    columns = {
        "partition_date": pa.array(np.full(n, DAY), pa.date32()),
        "interaction_id": _hex_ids(rng, "ix-", n),
        "parent_interaction_id": _nulls(rng, _hex_ids(rng, "ix-", n), 0.95),
        "channel": channel,
        "direction": _pick(rng, ["inbound", "inbound", "inbound", "outbound"], n),
        "customer_id": _nulls(
            rng, pc.binary_join_element_wise("C", _digits(rng, n, 10**6, 10**7), ""), 0.39
        ),
        "customer_email": _nulls(rng, email, 0.69),
        "customer_phone": _nulls(rng, phone, 0.46),
        "queue": _pick(rng, QUEUES, n),
        "team": _nulls(rng, _pick(rng, TEAMS, n), 0.07),
        "agent_id": _nulls(rng, agent, 0.07),
        "contact_reason": _nulls(rng, _pick(rng, REASONS, n), 0.07),
        "case_id": _nulls(rng, _hex_ids(rng, "cs-", n), 0.62),
        "queued_at": pa.array(queued, ts),
        "answered_at": _nulls(rng, pa.array(answered, ts), 0.07),
        "first_response_at": _nulls(rng, pa.array(answered, ts), 0.69),
        "ended_at": pa.array(ended, ts),
        "talk_seconds": _nulls(rng, pa.array(talk), 0.07),
        "hold_seconds": _nulls(rng, pa.array(rng.integers(0, 300, n)), 0.54),
        "acw_seconds": _nulls(rng, pa.array(rng.integers(0, 120, n)), 0.07),
        "abandoned": pa.array(rng.random(n) < 0.07),
        "disposition": _nulls(rng, _pick(rng, DISPOSITIONS, n), 0.12),
        "updated_at": pa.array(updated, ts),
        "extra_fields": extra,
        "source_file": source,
        "source_line": pa.array(np.arange(1, n + 1)),
    }
    return pa.table(columns).cast(TABLE.arrow_schema)


def _load(wh: Warehouse, rows: pa.Table) -> float:
    """Seconds for one replace_partitions of DAY (DELETE, bulk insert, COMMIT)."""
    write = PartitionWrite(TABLE, DAY, DAY + timedelta(days=1), rows)
    t0 = time.perf_counter()
    wh.replace_partitions([write])
    return time.perf_counter() - t0


def _drop_schema(wh: Warehouse) -> None:
    with wh.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{wh.schema}" CASCADE')


def bench_duckdb(rows: pa.Table, reps: int) -> tuple[list[float], float]:
    loads = []
    with tempfile.TemporaryDirectory(prefix="load_bench_") as tmp:
        for i in range(reps):
            wh = Warehouse(f"duckdb:///{tmp}/load_{i}.duckdb", "bench")
            wh.create_tables([TABLE])
            loads.append(_load(wh, rows))
            if i == reps - 1:
                replace = _load(wh, rows)
            wh.dispose()
            Path(f"{tmp}/load_{i}.duckdb").unlink()
    return loads, replace


def bench_postgres(url: str, rows: pa.Table, reps: int) -> tuple[list[float], float]:
    wh = Warehouse(url, f"load_bench_{os.getpid()}")
    loads = []
    try:
        for _ in range(reps):
            _drop_schema(wh)
            wh.create_tables([TABLE])
            loads.append(_load(wh, rows))
        replace = _load(wh, rows)
    finally:
        _drop_schema(wh)
        wh.dispose()
    return loads, replace


def _report(engine: str, n: int, loads: list[float], replace: float) -> None:
    median = statistics.median(loads)
    runs = " ".join(f"{s:.2f}" for s in loads)
    print(
        f"{engine:<10} {n / median:>12,.0f} rows/s   median {median:.2f} s of [{runs}]   "
        f"replace of a full day: {n / replace:,.0f} rows/s ({replace:.2f} s)",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pg-url", help="SQLAlchemy URL of a PostgreSQL warehouse (else skipped)")
    ap.add_argument("--engines", default="duckdb,postgresql", help="comma-separated")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = interactions(args.rows, args.seed)
    print(
        f"{rows.num_rows:,} stg_interactions rows, {rows.num_columns} columns, "
        f"{rows.nbytes / 1e6:,.0f} MB in Arrow, built in {time.perf_counter() - t0:.1f} s; "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    engines = args.engines.split(",")
    if "duckdb" in engines:
        _report("duckdb", rows.num_rows, *bench_duckdb(rows, args.reps))
    if "postgresql" in engines:
        if args.pg_url:
            _report("postgresql", rows.num_rows, *bench_postgres(args.pg_url, rows, args.reps))
        else:
            print("postgresql skipped (no --pg-url)")


if __name__ == "__main__":
    main()
