"""Peak RSS and wall time of a range run of the outcome asset, chunked and not.

Generates ``--days`` + 10 days of skewed feeds, stages them (without the row validator: only
the outcome run is measured) into DuckDB and, with ``--pg-url``, PostgreSQL, then runs the
outcome asset alone over the last R days of each ``--ranges`` at as_of = the last day, once
per ``--chunk-days`` value (``OUTCOME_CHUNK_DAYS``; 0 = one chunk, the unchunked run; -1 =
unset, C sized from ``OUTCOME_CHUNK_ROWS`` as the pipeline does by default). Each
run is a fresh child process (Dagster in process, ephemeral instance): its wall time from
launch and its own peak RSS (``wait4``), imports included.

    .venv/bin/python -m benchmarks.chunk_bench --interactions-per-day 20000 --ranges 30 60 \\
        --chunk-days 0 10 30 --workdir /tmp/chunks \\
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Writes ``<out>/chunks_<n>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks import pipeline_range as pr
from benchmarks import pipeline_stages as ps
from benchmarks.measure import run_child, scale_label
from benchmarks.run import machine

LEAD_DAYS = 10  # generated before the first outcome day: W + 2 of lookback, and a spare


def _child(args: argparse.Namespace) -> int:
    ok, error = pr.outcome_range(
        args.landing, args.url, args.schema, args.workdir, args.first, args.last, args.as_of
    )
    if not ok:
        print(error, file=sys.stderr)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.chunk_bench", description=__doc__)
    p.add_argument("--interactions-per-day", type=int, default=20_000)
    p.add_argument("--ranges", type=int, nargs="+", default=[30, 60])
    p.add_argument("--chunk-days", type=int, nargs="+", default=[0, 30])
    p.add_argument("--workdir", type=Path, required=True)
    p.add_argument("--pg-url", default=None)
    p.add_argument("--start", type=date.fromisoformat, default=date(2024, 3, 4))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    p.add_argument("--no-duckdb", action="store_true", help="PostgreSQL only (--pg-url)")
    p.add_argument("--name", default=None, help="report file stem (default chunks_<n>)")
    p.add_argument("--no-stage", action="store_true", help="the workdir is staged already")
    p.add_argument(
        "--pg-schema",
        default=None,
        help="PostgreSQL schema (default bench_chunks_<pid>, dropped at the end); a given "
        "one is kept, so that --no-stage can reuse it",
    )
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("landing", "url", "schema", "first", "last", "as_of"):
        p.add_argument(f"--{name.replace('_', '-')}", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        args.landing, args.workdir = Path(args.landing), Path(args.workdir)
        for name in ("first", "last", "as_of"):
            setattr(args, name, date.fromisoformat(getattr(args, name)))
        return _child(args)

    work: Path = args.workdir
    landing = work / "landing"
    n_days = max(args.ranges) + LEAD_DAYS
    days = [args.start + timedelta(days=i) for i in range(n_days)]
    as_of = days[-1]
    t0 = time.perf_counter()
    if not (landing / "_manifest.json").exists():
        ps.generate_feeds(landing, args.start, n_days, args.interactions_per_day, args.seed, True)
    generation_s = time.perf_counter() - t0
    targets = (
        [] if args.no_duckdb else [("duckdb", f"duckdb:///{work / 'warehouse.duckdb'}", "outcome")]
    )
    if args.pg_url:
        targets.append(("postgresql", args.pg_url, args.pg_schema or f"bench_chunks_{os.getpid()}"))
    runs: list[dict[str, object]] = []
    staging_s: dict[str, float] = {}
    try:
        for kind, url, schema in targets:
            t0 = time.perf_counter()
            if not args.no_stage:
                pr.stage_days_unvalidated(landing, url, schema, days)
            staging_s[kind] = round(time.perf_counter() - t0, 1)
            for r in args.ranges:
                first = as_of - timedelta(days=r - 1)
                for c in args.chunk_days:
                    env = dict(os.environ)
                    env.pop("OUTCOME_CHUNK_DAYS", None)
                    if c >= 0:
                        env["OUTCOME_CHUNK_DAYS"] = str(c or 100_000)
                    child = run_child(
                        [
                            sys.executable,
                            "-m",
                            "benchmarks.chunk_bench",
                            "--child",
                            "--workdir",
                            str(work),
                            "--landing",
                            str(landing),
                            "--url",
                            url,
                            "--schema",
                            schema,
                            "--first",
                            first.isoformat(),
                            "--last",
                            as_of.isoformat(),
                            "--as-of",
                            as_of.isoformat(),
                        ],
                        env,
                    )
                    run = {
                        "warehouse": kind,
                        "range_days": r,
                        "chunk_days": "rows" if c < 0 else (c or None),
                        "seconds": round(child.seconds, 1),
                        "cpu_seconds": round(child.cpu_seconds, 1),
                        "load_average": [round(x, 2) for x in os.getloadavg()],
                        "peak_rss_mib": round(child.peak_rss_mib),
                        "success": child.returncode == 0,
                    }
                    if child.returncode:
                        run["error"] = child.output[-2000:]
                    print(json.dumps(run), flush=True)
                    runs.append(run)
    finally:
        if args.pg_url and not args.pg_schema:
            from benchmarks.run import _drop_pg_schema

            _drop_pg_schema(args.pg_url, targets[-1][2])
    report = {
        "machine": machine(),
        "interactions_per_day": args.interactions_per_day,
        "generated_days": n_days,
        "as_of": as_of.isoformat(),
        "generation_seconds": round(generation_s, 1),
        "staging_seconds": staging_s,
        "runs": runs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / (args.name or f"chunks_{scale_label(args.interactions_per_day)}")
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str))
    lines = [
        f"# Outcome range runs, chunked and not: {args.interactions_per_day:,} interactions/day",
        "",
        f"as_of {as_of}; each run a fresh process (wall time from launch, own CPU and peak RSS).",
        "",
        "| warehouse | range (days) | chunk (days) | wall (s) | CPU (s) | peak RSS (MiB) | "
        "load (1/5/15 min, at the end) | ok |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run['warehouse']} | {run['range_days']} | {run['chunk_days'] or 'none'} | "
            f"{run['seconds']} | {run['cpu_seconds']} | {run['peak_rss_mib']} | "
            f"{'/'.join(map(str, run['load_average']))} | {'yes' if run['success'] else 'NO'} |"
        )
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(r["success"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
