"""Validation of a range's days: day by day (``validate_day``) against one GX pass
(``validate_range``), on landed feeds (e.g. ``benchmarks.chunk_bench``'s workdir).

    .venv/bin/python -m benchmarks.range_validation_bench --landing /tmp/chunks/landing \\
        --start 2024-03-14 --days 10

Prints, per table, the wall and GX seconds of both ways (two repetitions, after a warm-up
day) and whether every day's row failures and expectation outcomes are the same.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from outcome_pipeline.contracts import CONTRACTS
    from outcome_pipeline.ingest.stage_read import read_day
    from outcome_pipeline.validation import gx_run
    from outcome_pipeline.validation.range import validate_range
    from outcome_pipeline.validation.validate import validate_day

    p = argparse.ArgumentParser(prog="python -m benchmarks.range_validation_bench")
    p.add_argument("--landing", type=Path, required=True)
    p.add_argument("--start", type=date.fromisoformat, required=True)
    p.add_argument("--days", type=int, default=10)
    p.add_argument("--tables", nargs="+", default=["interactions", "survey_responses", "customers"])
    p.add_argument("--timezone", default="Europe/London")
    args = p.parse_args(argv)
    tz = args.timezone
    gx_run.import_seconds()
    same_everywhere = True
    for name in args.tables:
        contract = CONTRACTS[name]
        days = [args.start + timedelta(days=i) for i in range(args.days)]
        rows = {d: read_day(args.landing, contract, d, tz).latest for d in days}
        validate_day(rows[days[0]], contract, days[0], tz)  # warm-up
        for _ in range(2):
            t0 = time.perf_counter()
            by_day = {d: validate_day(t, contract, d, tz) for d, t in rows.items()}
            t1 = time.perf_counter()
            ranged = validate_range(rows, contract, tz)
            t2 = time.perf_counter()
            same = all(
                by_day[d].row_failures == ranged[d].row_failures
                and [e.as_dict() for e in by_day[d].expectations]
                == [e.as_dict() for e in ranged[d].expectations]
                for d in days
            )
            same_everywhere &= same
            print(
                f"{name}: {len(days)} days, {sum(t.num_rows for t in rows.values())} rows: "
                f"day by day {t1 - t0:.2f} s (GX {sum(v.gx_seconds for v in by_day.values()):.2f}),"
                f" one pass {t2 - t1:.2f} s (GX {sum(v.gx_seconds for v in ranged.values()):.2f});"
                f" same results: {same}",
                flush=True,
            )
    return 0 if same_everywhere else 1


if __name__ == "__main__":
    raise SystemExit(main())
