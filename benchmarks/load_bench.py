"""Bulk-load throughput of the warehouse writer beside each engine's own bulk path.

    .venv/bin/python -m benchmarks.load_bench --rows 1000000 --out benchmarks/results \\
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The rows are built synthetically (vectorised, seeded) in the shape of the staged
``stg_interactions`` table: 26 columns, ids and e-mails unique per row, low-cardinality
queues/teams/reasons, UTC timestamps, the NULL shares of a generated 1M day. Each engine gets
``--reps`` loads (default 3) into an empty table (a fresh DuckDB file / PostgreSQL schema),
then one more over the same day's rows (the DELETE then removes a full day). Two paths,
alternating:

- the writer: ``Warehouse.replace_partitions`` (DELETE of the window, bulk insert, COMMIT);
- the engine's own path into the same table definition: DuckDB, a plain connection
  inserting the Arrow table; PostgreSQL, ``COPY ... FROM '<file>' (FORMAT binary)`` read by
  the server (no client encoding, no transfer; needs the server on this machine and a role
  that may read server files, else the report says why it is missing).

Every load is counted in the table afterwards (a wrong count exits 1). Prints rows/s per path;
``--out`` writes ``load_<rows>.md`` and ``.json`` with the machine description. The
PostgreSQL schema ``load_bench_<pid>`` is dropped afterwards. The machine is shared: single
figures move by +-20 %; compare figures measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.measure import scale_label  # noqa: E402
from benchmarks.run import machine  # noqa: E402
from outcome_pipeline.warehouse import PartitionWrite, Warehouse  # noqa: E402
from outcome_pipeline.warehouse.pg_copy import (  # noqa: E402
    COPY_HEADER,
    COPY_TRAILER,
    binary_chunks,
    binary_column_order,
)
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
        "source_mapping": pa.nulls(n, pa.string()),  # read by the native contract reader
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


@dataclass
class EngineLoads:
    """One engine's figures: the writer (``replace_partitions``) and the engine's own bulk
    path, each into an empty table (``reps`` times) and over a full day of the same rows."""

    engine: str
    rows: int
    writer: list[float] = field(default_factory=list)
    writer_replace: float = 0.0
    own: list[float] = field(default_factory=list)
    own_replace: float | None = None
    own_path: str = ""
    table_rows: list[int] = field(default_factory=list)  # rows in the table after each load

    def as_dict(self) -> dict:
        d = asdict(self)
        d["writer_rows_per_s"] = round(self.rows / statistics.median(self.writer))
        d["writer_replace_rows_per_s"] = round(self.rows / self.writer_replace)
        if self.own:
            d["own_rows_per_s"] = round(self.rows / statistics.median(self.own))
            d["writer_vs_own"] = round(
                statistics.median(self.writer) / statistics.median(self.own), 3
            )
        if self.own_replace:
            d["own_replace_rows_per_s"] = round(self.rows / self.own_replace)
        return d


def _day_where() -> str:
    return f"partition_date >= DATE '{DAY}' AND partition_date < DATE '{DAY + timedelta(days=1)}'"


def bench_duckdb(rows: pa.Table, reps: int) -> EngineLoads:
    """The writer, and DuckDB's own path: a plain connection inserting the Arrow table into
    the same table definition (``INSERT ... SELECT`` over the Arrow scan, then CHECKPOINT,
    as the writer's COMMIT does for a load this size), in alternating fresh files."""
    out = EngineLoads("duckdb", rows.num_rows, own_path="INSERT INTO ... SELECT * FROM <Arrow>")
    cols = ", ".join(f'"{c}"' for c in TABLE.column_names)
    ordered = rows.select(TABLE.column_names)
    with tempfile.TemporaryDirectory(prefix="load_bench_") as tmp:
        for i in range(reps):
            for writer in (True, False):
                path = f"{tmp}/load_{i}_{int(writer)}.duckdb"
                wh = Warehouse(f"duckdb:///{path}", "bench")
                wh.create_tables([TABLE])
                if writer:
                    out.writer.append(_load(wh, rows))
                    if i == reps - 1:
                        out.writer_replace = _load(wh, rows)
                    out.table_rows.append(wh.count(TABLE.name))
                    wh.dispose()
                else:
                    wh.dispose()
                    con = duckdb.connect(path)
                    table = f'bench."{TABLE.name}"'
                    t0 = time.perf_counter()
                    con.from_arrow(ordered).select(cols).insert_into(table)
                    con.execute("CHECKPOINT")
                    out.own.append(time.perf_counter() - t0)
                    if i == reps - 1:
                        t0 = time.perf_counter()
                        con.execute("BEGIN")
                        con.execute(f"DELETE FROM {table} WHERE {_day_where()}")
                        con.from_arrow(ordered).select(cols).insert_into(table)
                        con.execute("COMMIT")
                        con.execute("CHECKPOINT")
                        out.own_replace = time.perf_counter() - t0
                    out.table_rows.append(
                        con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
                    )
                    con.close()
                Path(path).unlink()
    return out


def _server_copy_file(rows: pa.Table, folder: Path) -> tuple[Path, list[str]]:
    """The rows as one COPY binary file, encoded by the writer's own encoder, readable by
    the server's OS user; and its column order."""
    order = binary_column_order(rows.schema)
    path = folder / "rows.pgcopy"
    with path.open("wb") as f:
        f.write(COPY_HEADER)
        for chunk in binary_chunks(rows.select(order)):
            f.write(memoryview(chunk))
        f.write(COPY_TRAILER)
    folder.chmod(0o755)
    path.chmod(0o644)
    return path, order


def bench_postgres(url: str, rows: pa.Table, reps: int) -> EngineLoads:
    """The writer, and the server's own path: ``COPY ... FROM '<file>' (FORMAT binary)`` of
    the same rows, read by the server from a file (no client encoding, no transfer). That
    needs the server on this machine and a role allowed to read server files (superuser or
    pg_read_server_files); otherwise only the writer is measured and the reason is kept."""
    out = EngineLoads("postgresql", rows.num_rows)
    wh = Warehouse(url, f"load_bench_{os.getpid()}")
    table = wh.qualified(TABLE.name)
    rows = rows.select(TABLE.column_names).cast(TABLE.arrow_schema)
    try:
        with tempfile.TemporaryDirectory(prefix="load_bench_") as tmp:
            path, order = _server_copy_file(rows, Path(tmp))
            cols = ", ".join(f'"{c}"' for c in order)
            copy = f"COPY {table} ({cols}) FROM '{path}' (FORMAT binary)"
            out.own_path = "COPY ... FROM '<file>' (FORMAT binary), read by the server"
            for _ in range(reps):
                _drop_schema(wh)
                wh.create_tables([TABLE])
                out.writer.append(_load(wh, rows))
                out.table_rows.append(wh.count(TABLE.name))
                if out.own_path.startswith("COPY"):
                    _drop_schema(wh)
                    wh.create_tables([TABLE])
                    try:
                        with wh.begin() as conn:
                            t0 = time.perf_counter()
                            conn.exec_driver_sql(copy)
                        out.own.append(time.perf_counter() - t0)
                        out.table_rows.append(wh.count(TABLE.name))
                    except sa.exc.DBAPIError as e:
                        out.own_path = f"unavailable: {str(e.orig).splitlines()[0]}"
            if out.own:
                t0 = time.perf_counter()
                with wh.begin() as conn:
                    conn.exec_driver_sql(f"DELETE FROM {table} WHERE {_day_where()}")
                    conn.exec_driver_sql(copy)
                out.own_replace = time.perf_counter() - t0
            _drop_schema(wh)
            wh.create_tables([TABLE])
            _load(wh, rows)
            out.writer_replace = _load(wh, rows)
    finally:
        _drop_schema(wh)
        wh.dispose()
    return out


def _line(r: EngineLoads) -> str:
    d = r.as_dict()
    runs = " ".join(f"{s:.2f}" for s in r.writer)
    text = (
        f"{r.engine:<10} writer {d['writer_rows_per_s']:>10,} rows/s (median of [{runs}] s), "
        f"replacing a full day {d['writer_replace_rows_per_s']:,} rows/s"
    )
    if r.own:
        text += (
            f"; engine's own path {d['own_rows_per_s']:,} rows/s, replacing "
            f"{d['own_replace_rows_per_s']:,} rows/s; writer / own {d['writer_vs_own']:.2f}"
        )
    else:
        text += f"; engine's own path {r.own_path}"
    return text


def _secs(values: list[float]) -> str:
    return "[" + " ".join(f"{v:.2f}" for v in values) + "] s"


def _num(v: int | None) -> str:
    return f"{v:,}" if v else "–"


def _markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        f"# Bulk load of {report['rows']:,} stg_interactions rows "
        f"({report['columns']} columns, {report['arrow_mb']:,} MB in Arrow)",
        "",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['os']}; "
        f"Python {m['python']}; run {m['date']}",
        "- " + ", ".join(f"{k} {v}" for k, v in m["libraries"].items()),
        f"- command: `python -m benchmarks.load_bench {' '.join(report['argv'])}`",
        "",
        "Each load goes into an empty table of the warehouse's own definition; *replacing* "
        "deletes a full day of the same rows first, in the same transaction. The writer is "
        "`Warehouse.replace_partitions`; the engine's own path is said per row.",
        "",
        "| engine | writer rows/s | writer, replacing a day | engine's own path | own rows/s "
        "| own, replacing a day | writer / own |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for d in report["engines"]:
        cells = [
            d["engine"],
            _num(d["writer_rows_per_s"]),
            _num(d["writer_replace_rows_per_s"]),
            d["own_path"],
            _num(d.get("own_rows_per_s")),
            _num(d.get("own_replace_rows_per_s")),
            str(d.get("writer_vs_own", "–")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Seconds per run: "
        + "; ".join(
            f"{d['engine']} writer {_secs(d['writer'])}, own {_secs(d['own'])}"
            for d in report["engines"]
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pg-url", help="SQLAlchemy URL of a PostgreSQL warehouse (else skipped)")
    ap.add_argument("--engines", default="duckdb,postgresql", help="comma-separated")
    ap.add_argument("--out", type=Path, help="write load_<rows>.md and .json here")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = interactions(args.rows, args.seed)
    print(
        f"{rows.num_rows:,} stg_interactions rows, {rows.num_columns} columns, "
        f"{rows.nbytes / 1e6:,.0f} MB in Arrow, built in {time.perf_counter() - t0:.1f} s; "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    results = []
    engines = args.engines.split(",")
    if "duckdb" in engines:
        results.append(bench_duckdb(rows, args.reps))
        print(_line(results[-1]), flush=True)
    if "postgresql" in engines:
        if args.pg_url:
            results.append(bench_postgres(args.pg_url, rows, args.reps))
            print(_line(results[-1]), flush=True)
        else:
            print("postgresql skipped (no --pg-url)")
    wrong = [r.engine for r in results if any(n != rows.num_rows for n in r.table_rows)]
    if wrong:
        print(f"row counts differ from {rows.num_rows:,} after a load: {wrong}")
        return 1
    if args.out:
        report = {
            "rows": rows.num_rows,
            "columns": rows.num_columns,
            "arrow_mb": round(rows.nbytes / 1e6),
            "argv": list(sys.argv[1:] if argv is None else argv),
            "machine": machine(),
            "engines": [r.as_dict() for r in results],
        }
        args.out.mkdir(parents=True, exist_ok=True)
        stem = args.out / f"load_{scale_label(rows.num_rows)}"
        stem.with_suffix(".json").write_text(json.dumps(report, indent=1))
        stem.with_suffix(".md").write_text(_markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
