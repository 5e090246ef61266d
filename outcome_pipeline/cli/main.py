"""`outcome-pipeline` command line: generate sample feeds, run a range, run the demo."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="outcome-pipeline", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write sample feeds in the landing layout")
    g.add_argument(
        "--out", type=Path, default=None, help="landing root (default: $OUTCOME_LANDING_DIR)"
    )
    g.add_argument("--start", type=_day, required=True)
    g.add_argument("--days", type=int, default=14)
    g.add_argument("--interactions-per-day", type=int, default=10_000)
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--defect-rate", type=float, default=0.0)

    r = sub.add_parser("run", help="materialise every asset for a range of days, in-process")
    r.add_argument("--start", type=_day, required=True)
    r.add_argument("--end", type=_day, required=True, help="last day, inclusive")

    d = sub.add_parser("demo", help="generate two weeks of sample data and run them (DuckDB)")
    d.add_argument("--start", type=_day, default=date(2024, 1, 1))
    d.add_argument("--days", type=int, default=14)
    d.add_argument("--interactions-per-day", type=int, default=5_000)
    d.add_argument("--seed", type=int, default=7)
    o = sub.add_parser("docs", help="rewrite docs/feed_contracts.md and docs/data_dictionary.md")
    o.add_argument("--out", type=Path, default=Path("docs"))
    from outcome_pipeline.cli.data_docs import add_parser as add_data_docs

    add_data_docs(sub)
    return p


def _landing(out: Path | None) -> Path:
    from outcome_pipeline.settings import Settings

    return out or Path(Settings.from_env().landing_dir)


def _generate(out: Path, start: date, days: int, per_day: int, seed: int, defects: float) -> None:
    from outcome_pipeline.generator import GeneratorConfig, generate

    t0 = time.perf_counter()
    report = generate(
        GeneratorConfig(
            out_dir=out,
            start=start,
            days=days,
            interactions_per_day=per_day,
            seed=seed,
            defect_rate=defects,
        )
    )
    print(report.summary())
    print(f"generated in {time.perf_counter() - t0:.1f}s under {out}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "generate":
        if args.days < 1 or args.interactions_per_day < 1 or not 0 <= args.defect_rate < 1:
            print("error: --days and --interactions-per-day must be >= 1, --defect-rate in [0, 1)")
            return 2
        _generate(
            _landing(args.out),
            args.start,
            args.days,
            args.interactions_per_day,
            args.seed,
            args.defect_rate,
        )
        return 0
    if args.command == "run":
        if args.end < args.start:
            print("error: --end is before --start")
            return 2
        from outcome_pipeline.cli.run import run_range

        return 0 if run_range(args.start, args.end).ok else 1
    if args.command == "docs":
        from outcome_pipeline.docs_gen import write_docs

        for path in write_docs(args.out):
            print(f"wrote {path}")
        return 0
    if args.command == "data-docs":
        from outcome_pipeline.cli.data_docs import serve

        return serve(args)
    if args.command == "demo":
        landing = _landing(None)
        os.environ.setdefault("OUTCOME_LANDING_DIR", str(landing))
        _generate(landing, args.start, args.days, args.interactions_per_day, args.seed, 0.01)
        from outcome_pipeline.cli.run import run_range

        end = args.start + timedelta(days=args.days - 1)
        ok = run_range(args.start, end).ok
        from outcome_pipeline.settings import Settings

        print(f"warehouse: {Settings.from_env().warehouse_url}")
        return 0 if ok else 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
