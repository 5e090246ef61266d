"""One very large business day (e.g. 10M interactions) through the pipeline's functions.

The main harness (``python -m benchmarks``) also runs the limit, the peer, Dagster and a cold
process, which at 10M/day would take an hour and more memory than the machine has for all of
them at once. This measures only what a 10M day must show: that it completes within the
machine's memory and how the stages scale against a 1M day (the same stage split as the
harness, ``pipeline_stages.run_day``), after one staged day of history.

    .venv/bin/python -m benchmarks.big_day --interactions-per-day 10000000 \\
        --workdir /tmp/big --memory-limit 8GB

``--memory-limit`` sets ``OUTCOME_COMPUTE_MEMORY_LIMIT`` (the compute session's cap; past it
DuckDB spills). The generator runs first, in a child process (its peak RSS is reported apart).
Writes ``<out>/big_day_<n>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks import pipeline_stages as ps
from benchmarks.measure import Recorder, RssSampler, scale_label
from benchmarks.run import machine


def _generate(landing: Path, first: date, per_day: int, seed: int, warmup_days: int) -> float:
    t0 = time.perf_counter()
    ps.generate_feeds(
        landing,
        first,
        2,
        per_day,
        seed,
        True,
        warmup_days=warmup_days,
        # One customer per 9 interactions a day up to here (the default caps at 1M, which at
        # 10M/day would make every customer call ten times a day).
        max_customers=max(1_000_000, per_day),
    )
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.big_day", description=__doc__)
    p.add_argument("--interactions-per-day", type=int, default=10_000_000)
    p.add_argument("--workdir", type=Path, required=True, help="landing and warehouse go here")
    p.add_argument("--memory-limit", default="", help="OUTCOME_COMPUTE_MEMORY_LIMIT, e.g. 8GB")
    p.add_argument("--start", type=date.fromisoformat, default=date(2024, 3, 5))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--warmup-days", type=int, default=3, help="generator warm-up (simulated)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    p.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.memory_limit:
        os.environ["OUTCOME_COMPUTE_MEMORY_LIMIT"] = args.memory_limit
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    landing = work / "landing"
    history, day = args.start, args.start + timedelta(days=1)
    marker = work / "generated.json"
    if args.generate_only:
        seconds = _generate(
            landing, history, args.interactions_per_day, args.seed, args.warmup_days
        )
        gen = {
            "seconds": round(seconds, 1),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        }
        marker.write_text(json.dumps(gen))
        return 0
    if not marker.exists():
        # In a child process: the generator's memory (~10 GiB at 10M/day) is not all returned
        # to the OS and would count against the measured day.
        given = sys.argv[1:] if argv is None else list(argv)
        child = [sys.executable, "-m", "benchmarks.big_day", *given, "--generate-only"]
        subprocess.run(child, check=True)
    gen = json.loads(marker.read_text())
    wh_file = work / "big.duckdb"
    for suffix in ("", ".wal"):
        Path(f"{wh_file}{suffix}").unlink(missing_ok=True)
    url = f"duckdb:///{wh_file}"
    t0 = time.perf_counter()
    ps.stage_days(landing, url, "outcome", [history])
    history_seconds = time.perf_counter() - t0
    with RssSampler() as sampler:
        rec = Recorder(sampler)
        t0 = time.perf_counter()
        result = ps.run_day(landing, url, "outcome", day, rec.stage, sampler.peak, sampler.reset)
        total = time.perf_counter() - t0
        peak = max(s.peak_rss_mib for s in rec.stages)
    report = {
        "interactions_per_day": args.interactions_per_day,
        "day": day.isoformat(),
        "machine": machine(),
        "memory_limit": os.environ.get("OUTCOME_COMPUTE_MEMORY_LIMIT", "") or "default (50%)",
        "generation": gen,
        "history_staged_seconds": round(history_seconds, 1),
        "end_to_end_seconds": round(total, 2),
        "peak_rss_mib": round(peak),
        "validation_seconds": round(result.validation_seconds, 2),
        "rows": result.rows,
        "figures": result.figures,
        "stages": [s.as_dict() for s in rec.stages],
        "relations": {k: round(v, 4) for k, v in result.relation_seconds.items()},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"big_day_{scale_label(args.interactions_per_day)}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=1, default=str))
    stem.with_suffix(".md").write_text(_markdown(report))
    print(_markdown(report))
    return 0


def _markdown(r: dict) -> str:
    m = r["machine"]
    lines = [
        f"# One day of {r['interactions_per_day']:,} interactions (day {r['day']})",
        "",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['os']}; "
        f"Python {m['python']}; run {m['date']}",
        "- " + ", ".join(f"{k} {v}" for k, v in m["libraries"].items()),
        f"- compute memory cap: {r['memory_limit']}; generation {r['generation']['seconds']} s "
        f"(peak RSS {r['generation']['peak_rss_mib']:,} MiB, in a child process)",
        f"- day staged: {r['rows'].get('interactions_staged', 0):,} interactions, "
        f"{r['rows'].get('window_interactions', 0):,} in the journeys' input window",
        f"- end to end (functions): {r['end_to_end_seconds']} s, "
        f"peak RSS {r['peak_rss_mib']:,} MiB",
        "",
        "| stage | seconds | rows | rows/s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|",
    ]
    for s in r["stages"]:
        rate = f"{s['rows'] / s['seconds']:,.0f}" if s["rows"] and s["seconds"] else "–"
        lines.append(
            f"| {s['name']} | {s['seconds']:.2f} | {s['rows']:,} | {rate} "
            f"| {s['peak_rss_mib']:,.0f} |"
        )
    lines += [
        f"| validation (inside read) | {r['validation_seconds']:.2f} | | | |",
        *ps.relation_lines(r.get("relations", {})),
        "",
        "Figures: " + ", ".join(f"{k} {v:,}" for k, v in r["figures"].items()),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
