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
from datetime import date, timedelta
from pathlib import Path

from benchmarks import pipeline_range as pr
from benchmarks.measure import Recorder, RssSampler
from benchmarks.run import _drop_pg_schema

# (label, file suffix, function): the stages of a range run, by the functions doing them.
STAGES = (
    ("staging: read + type + dedupe (per day)", "ingest/stage_read.py", "read_day"),
    ("staging: validation (per range)", "validation/collector.py", "validate_days"),
    ("staging: finish day (apply failures)", "ingest/stage_finish.py", "finish_day"),
    ("warehouse: delete window", "warehouse/warehouse.py", "delete_window"),
    ("warehouse: insert rows", "warehouse/warehouse.py", "insert_rows"),
    ("staging: checks (accounting, references)", "defs/ingest/checks.py", "accounting_check"),
    ("staging: references check", "defs/ingest/checks.py", "references_check"),
    (
        "outcomes: stream inputs into the session (PostgreSQL)",
        "outcomes/compute.py",
        "_stream_inputs",
    ),
    ("outcomes: compute (engine session)", "outcomes/compute.py", "compute_outcomes"),
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.range_profile", description=__doc__)
    p.add_argument("--landing", type=Path, required=True)
    p.add_argument("--days", type=int, default=10)
    p.add_argument("--start", type=date.fromisoformat, default=date(2024, 3, 4))
    p.add_argument("--workdir", type=Path, required=True)
    p.add_argument("--pg-url", default=None, help="PostgreSQL instead of DuckDB")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--out", type=Path, default=None, help="write the split as JSON here")
    args = p.parse_args(argv)
    first = args.start
    last = first + timedelta(days=args.days - 1)
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.pg_url:
        url, schema = args.pg_url, "bench_profile"
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
        for what in ("staging", "outcomes"):
            profile = cProfile.Profile()
            with RssSampler() as sampler, Recorder(sampler).stage(what, "pipeline") as stage:
                profile.enable()
                ok, error = pr.materialize_range(
                    what, args.landing, url, schema, args.workdir, first, last, last
                )
                profile.disable()
            seconds = stage.seconds
            if not ok:
                print(error, file=sys.stderr)
                return 1
            stats = pstats.Stats(profile)
            result[what] = {
                "seconds": round(seconds, 1),
                "peak_rss_mib": round(stage.peak_rss_mib),
                "split": split(stats),
            }
            print(
                f"\n== {what}: {seconds:.1f} s for {args.days} days, "
                f"peak RSS {stage.peak_rss_mib:,.0f} MiB"
            )
            for label, s in result[what]["split"].items():  # type: ignore[index]
                if s:
                    print(f"  {label:45s} {s:8.2f} s  {s / args.days:6.2f} s/day")
            stats.sort_stats("cumulative").print_stats(args.top)
    finally:
        if args.pg_url:
            _drop_pg_schema(url, schema)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
