"""A long backfill end to end, as the multi-run backfill runs it, with 1, 2, 4 concurrent runs.

For each warehouse (DuckDB, and PostgreSQL with ``--pg-url``) and each ``--runs`` value N,
into a fresh warehouse: the range is cut into disjoint day windows (N equal windows, or
``--days-per-run`` days each, as ``BackfillPolicy.multi_run`` cuts a UI backfill), then

1. **staging**: every window's staging run (the five staging assets over the window, one
   Dagster run in its own process, validated per range), at most N processes at once;
2. **outcomes**: every window's outcome run (the outcome asset over the window, chunked as the
   pipeline chunks it, or by ``--chunk-days``, at as_of = the last day), at most N at once.

Outcome runs start once every staging run is done: the outcome asset of a window reads
staged days up to 1 + H + W days past its end, so Dagster launches it only after the next
window's staging (the multi-run backfill's order, here without the daemon's polling gaps).
Reported per configuration: wall time of each phase and in total from the first launch,
days/min, the largest peak RSS of one run (``wait4``) and the sum of the peaks of the runs
of one wave (what the machine must hold when they coincide), and a fingerprint of every
outcome table (rows + an order-independent hash, computed in the warehouse). Runs with N > 1
must equal N = 1 (``equal_to_one_run``); the process exits non-zero otherwise.
On PostgreSQL the staging asset itself ANALYZEs what it staged (inside the staging phase's
time): without statistics (autovacuum off, or not yet run after a bulk load) PostgreSQL plans
the context zone's parent lookup (``context_sql``) as a nested loop, quadratic in the window.

Beside it, **the limit** (``limit.py``, raw DuckDB SQL over the same landed files, into a
DuckDB file, no validation): its per-day time end to end (load + transform + daily +
persist, median over ``--limit-days`` days after W + 2 days of history) × the range's days.

    nice -n 0 .venv/bin/python -m benchmarks.scale --landing /work/bench-data/year_100k \\
        --days 365 --interactions-per-day 100000 --runs 1 2 4 \\
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test --name scale_year_100k

Without a generated ``--landing`` (its ``_manifest.json`` must match the arguments) the
landed files are generated there first (``--profile``, default ``skewed``, with the customer
base capped at ``--max-customers``, default 2,000,000: the profiles' base at 1M/day would
write a day-one customers file of several GB). Writes ``<out>/<name>.json`` and ``.md``;
``--table A.json B.json ...`` prints the headline table of earlier reports (README,
PERFORMANCE.md) and exits.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from benchmarks import pipeline_range as pr
from benchmarks import pipeline_stages as ps
from benchmarks.limit import Limit
from benchmarks.measure import ChildRun, run_child, scale_label
from benchmarks.pipeline_stages import day_bounds_us
from benchmarks.run import _drop_pg_schema, machine
from benchmarks.scale_report import compare, headline, markdown

PHASES = ("staging", "outcomes")


def windows(days: list[date], runs: int, days_per_run: int = 0) -> list[tuple[date, date]]:
    """Disjoint consecutive windows covering ``days``: ``days_per_run`` days each, or
    ``runs`` windows of (nearly) equal length."""
    size = days_per_run or math.ceil(len(days) / runs)
    return [(days[i], days[min(i + size, len(days)) - 1]) for i in range(0, len(days), size)]


def _child_argv(what: str, args: argparse.Namespace, url: str, schema: str, window) -> list[str]:
    first, last = window
    return [
        sys.executable,
        "-m",
        "benchmarks.scale",
        "--child",
        what,
        "--landing",
        str(args.landing),
        "--workdir",
        str(args.workdir),
        "--url",
        url,
        "--schema",
        schema,
        "--first",
        first.isoformat(),
        "--last",
        last.isoformat(),
        "--as-of",
        args.as_of.isoformat(),
    ]


def run_phase(
    what: str,
    args: argparse.Namespace,
    url: str,
    schema: str,
    wins: list[tuple[date, date]],
    runs: int,
) -> dict[str, object]:
    """Every window's run of ``what``, at most ``runs`` processes at once (a run queue with
    a concurrency limit): phase wall time, and each run's own wall time and peak RSS."""
    env = dict(os.environ)
    env.pop("OUTCOME_CHUNK_DAYS", None)
    if args.chunk_days:  # else C from OUTCOME_CHUNK_ROWS, the pipeline's default
        env["OUTCOME_CHUNK_DAYS"] = str(args.chunk_days)
    if args.compute_memory_limit:
        env["OUTCOME_COMPUTE_MEMORY_LIMIT"] = args.compute_memory_limit
    t0 = time.perf_counter()

    def launch(window: tuple[date, date]) -> tuple[float, ChildRun]:
        started = time.perf_counter() - t0
        return started, run_child(_child_argv(what, args, url, schema, window), env)

    with ThreadPoolExecutor(max_workers=runs) as pool:
        results = list(pool.map(launch, wins))
    seconds = time.perf_counter() - t0
    children = []
    for (first, last), (started, child) in zip(wins, results, strict=True):
        entry: dict[str, object] = {
            "first": first.isoformat(),
            "last": last.isoformat(),
            "started_s": round(started, 1),
            "seconds": round(child.seconds, 1),
            "peak_rss_mib": round(child.peak_rss_mib),
            "success": child.returncode == 0,
        }
        if child.returncode:
            entry["error"] = child.output[-3000:]
        children.append(entry)
    # Runs launched together (one wave of the queue) hold their memory at the same time.
    waves = [results[i : i + runs] for i in range(0, len(results), runs)]
    return {
        "seconds": round(seconds, 1),
        "runs": children,
        "max_run_peak_rss_mib": max(c["peak_rss_mib"] for c in children),
        "max_wave_rss_mib": round(max(sum(c.peak_rss_mib for _, c in w) for w in waves)),
        "success": all(c["success"] for c in children),
    }


def bench_config(
    args: argparse.Namespace, kind: str, runs: int, days: list[date]
) -> dict[str, object]:
    """One warehouse, one concurrency: a fresh warehouse, both phases, the fingerprint."""
    if kind == "duckdb":
        db = args.workdir / f"scale_{runs}runs.duckdb"
        for suffix in ("", ".wal", ".writer.lock"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        url, schema = f"duckdb:///{db}", "outcome"
    else:
        url, schema = args.pg_url, f"bench_scale_{os.getpid()}_{runs}"
        _drop_pg_schema(url, schema)
    wins = windows(days, runs, args.days_per_run)
    config: dict[str, object] = {
        "warehouse": kind,
        "concurrent_runs": runs,
        "windows": len(wins),
        "days": len(days),
        "interactions_per_day": args.interactions_per_day,
        "chunk_days": args.chunk_days,
        "outcome_runs_at_once": min(runs, args.outcome_runs or runs),
    }
    try:
        total = 0.0
        for what in PHASES:
            # A deployment may cap concurrent outcome runs lower (a run-queue tag limit):
            # each holds a chunk's C + H + W days of inputs.
            at_once = min(runs, args.outcome_runs or runs) if what == "outcomes" else runs
            phase = run_phase(what, args, url, schema, wins, at_once)
            config[what] = phase
            total += float(phase["seconds"])  # type: ignore[arg-type]
            print(json.dumps({kind: runs, what: phase["seconds"]}), flush=True)
            if not phase["success"]:
                break
        config["seconds"] = round(total, 1)
        config["days_per_minute"] = round(len(days) / total * 60, 2)
        config["success"] = all(config.get(p, {}).get("success") for p in PHASES)  # type: ignore[union-attr]
        config["peak_rss_mib"] = max(
            config[p]["max_run_peak_rss_mib"]  # type: ignore[index]
            for p in PHASES
            if p in config
        )
        config["max_wave_rss_mib"] = max(
            config[p]["max_wave_rss_mib"]  # type: ignore[index]
            for p in PHASES
            if p in config
        )
        if config["success"]:
            config["fingerprint"] = pr.outcome_fingerprint(url, schema)
    finally:
        if kind == "postgresql":
            _drop_pg_schema(url, schema)
        elif not args.keep_warehouses:
            for suffix in ("", ".wal", ".writer.lock"):
                Path(str(db) + suffix).unlink(missing_ok=True)
    return config


def limit_per_day(args: argparse.Namespace, days: list[date]) -> dict[str, object]:
    """The limit's per-day time end to end, median over ``--limit-days`` measured days that
    follow W + 2 loaded days of history (a full window, as the pipeline's later days have)."""
    history = days[: ps.LOOKBACK_DAYS]
    measured = days[ps.LOOKBACK_DAYS : ps.LOOKBACK_DAYS + args.limit_days]
    if not measured:
        return {"note": f"needs more than {ps.LOOKBACK_DAYS} days"}
    path = args.workdir / "limit.duckdb"
    path.unlink(missing_ok=True)
    limit = Limit(path, args.landing, ps.TIMEZONE, ps.REPEAT_WINDOW_DAYS)
    per_day: list[float] = []
    try:
        for d in history:
            limit.load_day(d)
        for d in measured:
            t0 = time.perf_counter()
            limit.load_day(d)
            limit.transform(d, *day_bounds_us(d))
            limit.daily(d)
            limit.persist(d)
            per_day.append(time.perf_counter() - t0)
    finally:
        limit.close()
        path.unlink(missing_ok=True)
    median = statistics.median(per_day)
    return {
        "measured_days": len(per_day),
        "seconds_per_day": round(median, 3),
        "seconds_per_day_all": [round(s, 3) for s in per_day],
        "seconds_for_range": round(median * len(days), 1),
    }


def _landing(args: argparse.Namespace) -> dict[str, object]:
    """Generate the landed files, or check that the existing ones are what was asked for."""
    manifest = args.landing / "_manifest.json"
    fields = {**pr.profile_fields(args.profile), "max_customers": args.max_customers}
    wanted = {
        "start": args.start.isoformat(),
        "interactions_per_day": args.interactions_per_day,
        "seed": args.seed,
        **fields,
    }
    if manifest.exists():
        config = json.loads(manifest.read_text())["config"]
        wrong = {k: (config.get(k), v) for k, v in wanted.items() if config.get(k) != v}
        if config.get("days", 0) < args.days:
            wrong["days"] = (config.get("days"), f">= {args.days}")
        if wrong:
            raise SystemExit(f"{args.landing} holds other data (have, want): {wrong}")
        return {"generated": False, "config": config}
    t0 = time.perf_counter()
    ps.generate_feeds(
        args.landing,
        args.start,
        args.days,
        args.interactions_per_day,
        args.seed,
        False,
        **fields,
    )
    return {"generated": True, "seconds": round(time.perf_counter() - t0, 1)}


def _child(args: argparse.Namespace) -> int:
    ok, error = pr.materialize_range(
        args.child,
        args.landing,
        args.url,
        args.schema,
        args.workdir,
        date.fromisoformat(args.first),
        date.fromisoformat(args.last),
        args.as_of,
    )
    if not ok:
        print(error, file=sys.stderr)
    return 0 if ok else 1


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__)
    p.add_argument("--landing", type=Path, help="landed files (generated there if absent)")
    p.add_argument("--workdir", type=Path, help="warehouses (default: <landing>/../scale_work)")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--interactions-per-day", type=int, default=100_000)
    p.add_argument("--runs", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--days-per-run", type=int, default=0, help="0: the range / runs")
    p.add_argument(
        "--outcome-runs",
        type=int,
        default=0,
        help="at most this many outcome runs at once (0: as --runs), as a tag limit would",
    )
    p.add_argument(
        "--chunk-days",
        type=int,
        default=0,
        help="OUTCOME_CHUNK_DAYS (0: unset, C sized from OUTCOME_CHUNK_ROWS as by default)",
    )
    p.add_argument("--pg-url", default=None, help="also PostgreSQL (a schema per config)")
    p.add_argument(
        "--compute-memory-limit",
        default="",
        help="OUTCOME_COMPUTE_MEMORY_LIMIT of every run (default: the pipeline's, 50%% of RAM "
        "per run; N concurrent runs may each take it)",
    )
    p.add_argument("--no-duckdb", action="store_true")
    p.add_argument("--limit-days", type=int, default=5, help="0: no limit")
    p.add_argument("--profile", default="skewed", choices=("default", "skewed", "extreme"))
    p.add_argument("--max-customers", type=int, default=2_000_000)
    p.add_argument("--start", type=date.fromisoformat, default=date(2024, 3, 4))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--keep-warehouses", action="store_true")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    p.add_argument("--name", default=None, help="report file stem")
    p.add_argument("--table", type=Path, nargs="+", help="print the headline table of reports")
    p.add_argument("--child", choices=PHASES, help=argparse.SUPPRESS)
    for name in ("url", "schema", "first", "last", "as-of"):
        p.add_argument(f"--{name}", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child or args.table:
        return args
    if args.landing is None:
        p.error("--landing is required")
    args.workdir = args.workdir or args.landing.parent / "scale_work"
    args.as_of = args.start + timedelta(days=args.days - 1)
    return args


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = parse(argv)
    if args.table:
        reports = [json.loads(p.read_text()) for p in args.table]
        print(headline(reports))
        return {}
    if args.child:
        args.landing, args.workdir = Path(args.landing), Path(args.workdir)
        args.as_of = date.fromisoformat(args.as_of)
        sys.exit(_child(args))
    args.workdir.mkdir(parents=True, exist_ok=True)
    days = [args.start + timedelta(days=i) for i in range(args.days)]
    landing = _landing(args)
    kinds = ([] if args.no_duckdb else ["duckdb"]) + (["postgresql"] if args.pg_url else [])
    configs = [bench_config(args, kind, n, days) for kind in kinds for n in args.runs]
    report: dict[str, object] = {
        "args": {k: str(v) if isinstance(v, Path | date) else v for k, v in vars(args).items()},
        "machine": machine(),
        "landing": landing,
        "limit": limit_per_day(args, days) if args.limit_days else {},
        "configs": configs,
    }
    report["scaling"] = compare(configs)
    args.out.mkdir(parents=True, exist_ok=True)
    name = args.name or f"scale_{args.days}d_{scale_label(args.interactions_per_day)}"
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=2, default=str))
    text = markdown(report) + "\n" + headline([report])
    (args.out / f"{name}.md").write_text(text)
    print(text)
    return report


def ok(report: dict[str, object]) -> bool:
    configs = report.get("configs", [])
    return all(c.get("success") and c.get("equal_to_one_run", True) for c in configs)


if __name__ == "__main__":
    result = main()
    sys.exit(0 if not result or ok(result) else 1)
