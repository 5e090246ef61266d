"""Where the time of a range run goes: the staging run and the outcome run of ``--days`` days,
each in this process under cProfile, split by the pipeline functions they spend it in.

    .venv/bin/python -m benchmarks.range_profile --landing /work/bench-data/year_100k \\
        --days 10 --workdir /tmp/profile [--pg-url ...]

The landed files must exist (e.g. the backfill benchmark's, ``benchmarks/scale.py``); the
first ``--days`` of them are staged into a fresh warehouse, then their outcomes computed at
as_of = the last of them. Prints, per phase, the wall time and the cumulative time of each
function in ``STAGES`` (nested ones overlap: read the tree, not the sum); ``--top`` more
lines of cProfile's own listing for what the split misses. Profiling adds ~5-10 %.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks import pipeline_range as pr
from benchmarks.measure import Recorder, RssSampler
from benchmarks.run import _drop_pg_schema
from benchmarks.stage_timers import timers

# (label, file suffix, function): the stages of a range run, by the functions doing them.
STAGES = (
    ("staging: read + type + dedupe (per day)", "ingest/stage_read.py", "read_day"),
    ("staging: validation (per range)", "validation/collector.py", "validate_days"),
    ("  validation: precheck masks", "validation/validate.py", "_run_precheck"),
    ("  validation: GX pass, whole (per range)", "validation/range.py", "_run_gx_once"),
    ("  validation: GX Arrow -> pandas", "validation/gx_run.py", "to_frame"),
    ("  validation: GX run_rules", "validation/gx_run.py", "run_rules"),
    ("  validation: GX import", "validation/gx_run.py", "import_seconds"),
    ("  validation: rows failed -> reasons", "validation/validate.py", "_collect_row_failures"),
    ("staging: finish day (apply failures)", "ingest/stage_finish.py", "finish_day"),
    ("staging: Data Docs of the last day (per run)", "validation/docs.py", "write_data_docs"),
    ("warehouse: analyze (PostgreSQL)", "warehouse/warehouse.py", "analyze"),
    ("warehouse: delete window", "warehouse/warehouse.py", "delete_window"),
    ("warehouse: insert rows", "warehouse/warehouse.py", "insert_rows"),
    ("  warehouse: COPY binary encoding", "warehouse/pg_copy.py", "binary_rows"),
    ("staging: checks (accounting, references)", "defs/ingest/checks.py", "accounting_check"),
    ("staging: references check", "defs/ingest/checks.py", "references_check"),
    (
        "outcomes: stream inputs into the session (PostgreSQL)",
        "outcomes/compute.py",
        "_stream_inputs",
    ),
    # A generator (context manager): its time is the session's preparation and SQL steps,
    # not the block's reading out, which write_outcomes carries.
    ("outcomes: compute (engine session)", "outcomes/compute.py", "computed_outcomes"),
    ("outcomes: write (streamed out + inserted)", "outcomes/write.py", "write_outcomes"),
    ("outcomes: compute, SQL steps", "outcomes/compute.py", "_run_step"),
    ("outcomes: compute, select tables out", "outcomes/compute.py", "_select"),
)


def split(stats: pstats.Stats) -> dict[str, float]:
    """Cumulative seconds of each STAGES function (0 when not called)."""
    out = {label: 0.0 for label, _, _ in STAGES}
    for (path, _, func), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        for label, suffix, name in STAGES:
            if func == name and path.endswith(suffix):
                out[label] += cumulative
    return {k: round(v, 2) for k, v in out.items()}


def staging_fingerprint(url: str, schema: str) -> dict[str, dict[str, object]]:
    """Per table the staging phase writes: rows and an order-independent hash of every column
    but ``run_id`` (each run has its own), computed in the warehouse."""
    from outcome_pipeline.warehouse import LOAD_AUDIT
    from outcome_pipeline.warehouse.tables import (
        QUARANTINE_FILES,
        QUARANTINE_TABLES,
        ROWS_NOT_COUNTED,
        STAGING_TABLES,
    )

    tables = [*STAGING_TABLES.values(), *QUARANTINE_TABLES.values()]
    tables += [QUARANTINE_FILES, LOAD_AUDIT, ROWS_NOT_COUNTED]
    columns = {t.name: [c for c in t.column_names if c != "run_id"] for t in tables}
    return pr.table_fingerprint(url, schema, columns)


def _phase(
    what: str, args: argparse.Namespace, url: str, schema: str, first: date, last: date
) -> dict[str, object] | None:
    """Run one phase under cProfile (or the wrapping timers); print and return its split."""
    profile = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
    cpu_start = time.process_time()
    with (
        timers(STAGES if args.timers else ()) as timed,
        RssSampler() as sampler,
        Recorder(sampler).stage(what, "pipeline") as stage,
    ):
        if not args.timers:
            profile.enable()
        ok, error = pr.materialize_range(
            what, args.landing, url, schema, args.workdir, first, last, last
        )
        if not args.timers:
            profile.disable()
    seconds = stage.seconds
    cpu = time.process_time() - cpu_start
    if not ok:
        print(error, file=sys.stderr)
        return None
    out: dict[str, object] = {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "timer": "timers" if args.timers else "cpu" if args.cpu else "wall",
        "peak_rss_mib": round(stage.peak_rss_mib),
    }
    print(
        f"\n== {what}: {seconds:.1f} s ({cpu:.1f} s CPU) for {args.days} days, "
        f"peak RSS {stage.peak_rss_mib:,.0f} MiB"
    )
    if args.timers:
        out["split"] = {k: [round(t.wall, 2), round(t.cpu, 2)] for k, t in timed.items()}
        print(f"  {'':45s} {'wall s':>8s}  {'s/day':>6s}  {'CPU s':>8s}  {'s/day':>6s}")
        for label, t in timed.items():
            if t.calls:
                print(
                    f"  {label:45s} {t.wall:8.2f}  {t.wall / args.days:6.2f}  "
                    f"{t.cpu:8.2f}  {t.cpu / args.days:6.2f}"
                )
        return out
    stats = pstats.Stats(profile)
    out["split"] = split(stats)
    for label, s in out["split"].items():  # type: ignore[attr-defined]
        if s:
            print(f"  {label:45s} {s:8.2f} s  {s / args.days:6.2f} s/day")
    stats.sort_stats("cumulative").print_stats(args.top)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.range_profile", description=__doc__)
    p.add_argument("--landing", type=Path, required=True)
    p.add_argument("--days", type=int, default=10)
    p.add_argument("--start", type=date.fromisoformat, default=date(2024, 3, 4))
    p.add_argument("--workdir", type=Path, required=True)
    p.add_argument("--pg-url", default=None, help="PostgreSQL instead of DuckDB")
    p.add_argument(
        "--pg-schema", default="bench_profile", help="PostgreSQL schema (dropped before and after)"
    )
    p.add_argument(
        "--keep-schema",
        action="store_true",
        help="PostgreSQL: neither drop the schema before nor after (stage once with "
        "--phases staging, then time --phases outcomes against the same staged rows)",
    )
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--out", type=Path, default=None, help="write the split as JSON here")
    p.add_argument(
        "--phases", nargs="+", default=["staging", "outcomes"], choices=("staging", "outcomes")
    )
    p.add_argument(
        "--cpu",
        action="store_true",
        help="time functions in CPU seconds of the process (all threads), not wall: steadier "
        "on a shared machine, but blind to waiting (I/O, the server's work on PostgreSQL)",
    )
    p.add_argument(
        "--timers",
        action="store_true",
        help="no cProfile: each STAGES function timed by a wrapper, in wall and CPU seconds "
        "(benchmarks/stage_timers.py; no listing, ~no overhead)",
    )
    p.add_argument(
        "--fingerprint",
        action="store_true",
        help="print a fingerprint of every table the phases run write (staging: the staged "
        "tables; outcomes: the outcome tables), to compare runs",
    )
    args = p.parse_args(argv)
    first = args.start
    last = first + timedelta(days=args.days - 1)
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.pg_url:
        url, schema = args.pg_url, args.pg_schema
        if not args.keep_schema:
            _drop_pg_schema(url, schema)
    else:
        db = args.workdir / "profile.duckdb"
        for suffix in ("", ".wal"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        url, schema = f"duckdb:///{db}", "outcome"
    result: dict[str, object] = {
        "days": args.days,
        "warehouse": "postgresql" if args.pg_url else "duckdb",
    }
    try:
        for what in args.phases:
            result[what] = _phase(what, args, url, schema, first, last)
            if result[what] is None:
                return 1
        if args.fingerprint and "staging" in args.phases:
            result["staging_fingerprint"] = staging_fingerprint(url, schema)
            print(json.dumps(result["staging_fingerprint"], indent=1))
        if args.fingerprint and "outcomes" in args.phases:
            result["outcome_fingerprint"] = pr.outcome_fingerprint(url, schema)
            print(json.dumps(result["outcome_fingerprint"], indent=1))
    finally:
        if args.pg_url and not args.keep_schema:
            _drop_pg_schema(url, schema)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
