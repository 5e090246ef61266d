"""Benchmark harness: one business day stage by stage against the limit (raw DuckDB
SQL) and the peer (plain pandas), warm and cold, with peak RSS, plus a multi-day backfill.

    .venv/bin/python -m benchmarks --interactions-per-day 100000 --days 10 --backfill-days 30 \\
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Writes ``<out>/bench_<scale>_<timestamp>.{md,json,png}`` (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchmarks import pipeline_dagster as pd
from benchmarks import pipeline_stages as ps
from benchmarks.limit import Limit
from benchmarks.measure import Recorder, RssSampler, Stage, run_child
from benchmarks.peer import Peer
from benchmarks.run_report import (
    FIGURES,
    STAGES,
    TRANSFORMS,
    Report,
    markdown,
    plot,
    summarise,
)

__all__ = ["FIGURES", "STAGES", "TRANSFORMS", "Report", "machine", "main"]


def machine() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": mem_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
        "libraries": pd.library_versions(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _measure_counterpart(
    rec: Recorder,
    report: Report,
    name: str,
    engine: Limit | Peer,
    history: list[date],
    day: date,
    start_us: int,
    end_us: int,
) -> None:
    """The limit's or the peer's stages for ``day``, after loading the history and a warm-up
    on the day before (both have load_day / transform / daily / persist / figures)."""
    for d in history:
        engine.load_day(d)
    engine.transform(history[-1], *ps.day_bounds_us(history[-1]))  # warm-up
    engine.daily(history[-1])
    with rec.stage("read + type + dedupe", name) as s:
        s.rows = engine.load_day(day)
    with rec.stage("identity + journeys", name):
        engine.transform(day, start_us, end_us)
    with rec.stage("daily tables", name):
        engine.daily(day)
    with rec.stage("warehouse write (outcomes)", name) as s:
        s.rows = engine.persist(day)
    report.figures[name] = engine.figures(day)


def _copy_duckdb(src: Path, dst: Path) -> None:
    for suffix in ("", ".wal"):
        s = Path(str(src) + suffix)
        d = Path(str(dst) + suffix)
        if d.exists():
            d.unlink()
        if s.exists():
            shutil.copyfile(s, d)


def _generate(
    report: Report, key: str, landing: Path, start: date, days: int, per_day: int, args
) -> None:
    t0 = time.perf_counter()
    ps.generate_feeds(landing, start, days, per_day, args.seed, not args.no_skew)
    report.generation[key] = {
        "days": days,
        "interactions_per_day": per_day,
        "seconds": round(time.perf_counter() - t0, 2),
        "skew": "default" if args.no_skew else "skewed profile (generator.config.SKEWED)",
    }


def bench_day(report: Report, rec: Recorder, work: Path, landing: Path, day: date, args) -> None:
    """Pipeline functions, limit and peer on the same day; Dagster warm and cold runs."""
    history = [day - timedelta(days=i) for i in range(args.days - 1, 0, -1)]
    schema = "outcome"
    wh_file = work / "pipeline.duckdb"
    url = f"duckdb:///{wh_file}"
    # History (untimed); the day before the measured one runs through run_day as warm-up.
    ps.stage_days(landing, url, schema, history[:-1])
    ps.run_day(landing, url, schema, history[-1], _discard, rec.sampler.peak, rec.sampler.reset)
    base = work / "base.duckdb"
    _copy_duckdb(wh_file, base)

    result = ps.run_day(landing, url, schema, day, rec.stage, rec.sampler.peak, rec.sampler.reset)
    read = rec.get("read + type + dedupe", "pipeline")
    assert read is not None
    rec.add(
        Stage(
            "validation",
            "pipeline",
            result.validation_seconds,
            result.validation_rows,
            result.validation_peak_rss_mib,
            read.rss_start_mib,
            note="DayValidations(engine=auto), timed inside stage_day",
        )
    )
    report.rows = result.rows
    report.relations = result.relation_seconds
    report.figures["pipeline"] = {"interactions_staged": result.rows["interactions_staged"]} | (
        result.figures
    )

    start_us, end_us = ps.day_bounds_us(day)
    limit = Limit(work / "limit.duckdb", landing, ps.TIMEZONE, ps.REPEAT_WINDOW_DAYS)
    try:
        _measure_counterpart(rec, report, "limit", limit, history, day, start_us, end_us)
    finally:
        limit.close()
    peer = Peer(work / "peer", landing, ps.TIMEZONE, ps.REPEAT_WINDOW_DAYS)
    _measure_counterpart(rec, report, "peer", peer, history, day, start_us, end_us)
    del peer

    # Dagster, warm: one warm-up run, then the measured run, each on a copy of the history.
    for label in ("warm-up", "measured"):
        run_file = work / f"dagster_{label}.duckdb"
        _copy_duckdb(base, run_file)
        with pd.pipeline_env(landing, f"duckdb:///{run_file}", schema, work):
            ctx = rec.stage("end to end (Dagster run, warm)", "pipeline")
            with ctx as s:
                ok, error, n = pd.dagster_range(day, day)
                s.extra = {"materializations": n, "success": ok}
            if label == "warm-up":
                rec.stages.pop()
            if not ok:
                report.errors.append(f"Dagster {label} run failed: {error}")

    # Cold: a fresh interpreter from launch (the CLI a scheduler runs), every asset.
    run_file = work / "cold.duckdb"
    _copy_duckdb(base, run_file)
    with pd.pipeline_env(landing, f"duckdb:///{run_file}", schema, work) as env:
        child = run_child(pd.cold_command(day, day), {**os.environ, **env}, cwd=str(work))
    rec.add(
        Stage(
            "end to end (cold, from launch)",
            "pipeline",
            child.seconds,
            result.rows["window_interactions"],
            child.peak_rss_mib,
            0.0,
            note="`outcome-pipeline run` in a fresh process (wait4 peak RSS)",
        )
    )
    if child.returncode != 0:
        report.errors.append(f"cold run failed ({child.returncode}): {child.output[-2000:]}")


def _discard(*_args, **_kwargs):
    """A measure() that records nothing (warm-up)."""
    from contextlib import nullcontext

    return nullcontext(Stage("", "", 0, 0, 0, 0))


def bench_backfill(report: Report, rec: Recorder, work: Path, landing: Path, args) -> None:
    start = args.start
    end = start + timedelta(days=args.backfill_days - 1)
    targets = [("duckdb", f"duckdb:///{work / 'backfill.duckdb'}", "outcome")]
    if args.pg_url:
        targets.append(("postgresql", args.pg_url, f"bench_{os.getpid()}"))
    for kind, url, schema in targets:
        try:
            label = f"backfill {args.backfill_days} days ({kind})"
            with (
                pd.pipeline_env(landing, url, schema, work / f"backfill_{kind}"),
                rec.stage(label, "pipeline") as s,
            ):
                ok, error, n = pd.dagster_range(start, end)
                s.rows = args.backfill_days
            days_per_min = args.backfill_days / s.seconds * 60
            report.backfill.append(
                {
                    "warehouse": kind,
                    "days": args.backfill_days,
                    "interactions_per_day": args.backfill_interactions_per_day,
                    "seconds": round(s.seconds, 2),
                    "days_per_minute": round(days_per_min, 2),
                    "minutes_for_365_days": round(365 / days_per_min, 1),
                    "peak_rss_mib": round(s.peak_rss_mib),
                    "success": ok,
                    "materializations": n,
                }
            )
            if not ok:
                report.errors.append(f"backfill into {kind} failed: {error}")
        finally:
            if kind == "postgresql":
                _drop_pg_schema(url, schema)


def _drop_pg_schema(url: str, schema: str) -> None:
    import sqlalchemy as sa

    from outcome_pipeline.serving.pg_publish import bi_schema_name

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            # With the BI schema the backfill's bi_views published beside it.
            for name in (schema, bi_schema_name(schema)):
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        engine.dispose()


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--interactions-per-day", type=int, default=100_000)
    p.add_argument("--days", type=int, default=10, help="days generated up to the measured one")
    p.add_argument("--start", type=date.fromisoformat, default=date(2024, 3, 4))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-skew", action="store_true", help="the sample data's default skew")
    p.add_argument("--backfill-days", type=int, default=30, help="0: no backfill")
    p.add_argument(
        "--backfill-interactions-per-day", type=int, default=None, help="default: the same"
    )
    p.add_argument("--pg-url", default=None, help="also backfill into PostgreSQL")
    p.add_argument("--no-cold", action="store_true", help="skip the cold-process run")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    p.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    p.add_argument("--name", default=None, help="report file stem")
    args = p.parse_args(argv)
    if args.days < 2:
        p.error("--days must be >= 2 (a warm-up day before the measured one)")
    if args.backfill_interactions_per_day is None:
        args.backfill_interactions_per_day = args.interactions_per_day
    return args


def main(argv: list[str] | None = None) -> Report:
    args = parse(argv)
    command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
    report = Report(
        args={k: str(v) if isinstance(v, Path | date) else v for k, v in vars(args).items()}
        | {"command": command},
        machine=machine(),
    )
    day = args.start + timedelta(days=args.days - 1)
    report.day = day.isoformat()
    keep = args.workdir is not None
    work = args.workdir or Path(tempfile.mkdtemp(prefix="outcome_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        with RssSampler() as sampler:
            rec = Recorder(sampler)
            landing = work / "landing"
            same_scale = args.backfill_interactions_per_day == args.interactions_per_day
            days = max(args.days, args.backfill_days if same_scale else 0)
            _generate(report, "day", landing, args.start, days, args.interactions_per_day, args)
            bench_day(report, rec, work, landing, day, args)
            if args.backfill_days:
                bf_landing = landing
                if not same_scale:
                    bf_landing = work / "landing_backfill"
                    _generate(
                        report,
                        "backfill",
                        bf_landing,
                        args.start,
                        args.backfill_days,
                        args.backfill_interactions_per_day,
                        args,
                    )
                bench_backfill(report, rec, work, bf_landing, args)
            summarise(report, rec)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.name or (
        f"bench_{args.interactions_per_day // 1000}k_{datetime.now():%Y%m%d_%H%M%S}"
    )
    plot(report, args.out / f"{stem}.png")
    (args.out / f"{stem}.json").write_text(json.dumps(report.as_dict(), indent=2, default=str))
    text = markdown(report, f"{stem}.png")
    (args.out / f"{stem}.md").write_text(text)
    print(text)
    print(f"\nwrote {args.out / stem}.{{md,json,png}}")
    if report.mismatches:
        print("FIGURES DISAGREE: " + "; ".join(report.mismatches), file=sys.stderr)
    return report


if __name__ == "__main__":
    sys.exit(1 if main().mismatches else 0)
