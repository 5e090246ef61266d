"""Measure validation of one large interactions day with each engine; print a markdown table.

    /work/venv/bin/python benchmarks/validation_bench.py                 # 1M synthetic rows
    /work/venv/bin/python benchmarks/validation_bench.py --rows 200000
    /work/venv/bin/python benchmarks/validation_bench.py --source generator   # stage_day output

``synthetic`` builds a typed day directly (outcome_pipeline_tests/validation/synth.py: realistic
values, 1% planted defects, ~1.5% late rows). ``generator`` runs the sample-data generator for
one day at ``--rows`` interactions/day and stages it with ``ingest.stage.stage_day``; the
day is a Friday (2024-03-29), whose volume is ~1.1x the weekly mean.

GX import is measured separately (paid once per process). Timings on a shared 2-vCPU box
vary by +-20% between runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from outcome_pipeline.contracts import TableContract

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DAY = date(2024, 3, 31)  # synthetic: the spring DST change (a 23-hour business day)
GENERATED_DAY = date(2024, 3, 29)
TZ = "Europe/London"


def _synthetic(rows: int, defect_rate: float) -> tuple[pa.Table, TableContract]:
    from outcome_pipeline_tests.validation.synth import interactions_day

    day = interactions_day(rows, DAY, TZ, defect_rate=defect_rate, seed=1)
    return day.table, day.contract


def _generated(rows: int, defect_rate: float, workdir: Path) -> tuple[pa.Table, TableContract]:
    from outcome_pipeline.contracts import CONTRACTS
    from outcome_pipeline.generator import GeneratorConfig, generate
    from outcome_pipeline.ingest.stage import stage_day

    cfg = GeneratorConfig(workdir, GENERATED_DAY, 1, rows, 1, defect_rate=defect_rate, timezone=TZ)
    generate(cfg)
    contract = CONTRACTS["interactions"]
    return stage_day(workdir, contract, GENERATED_DAY, TZ).staged, contract


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--defect-rate", type=float, default=0.01)
    parser.add_argument("--source", choices=("synthetic", "generator"), default="synthetic")
    parser.add_argument("--engines", default="precheck,auto,gx")
    parser.add_argument("--docs", action="store_true", help="also time write_data_docs")
    args = parser.parse_args()

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if args.source == "generator":
            table, contract = _generated(args.rows, args.defect_rate, Path(tmp))
        else:
            table, contract = _synthetic(args.rows, args.defect_rate)
        build = time.perf_counter() - start

        from outcome_pipeline.validation import gx_run, validate_day, write_data_docs

        gx_import = gx_run.import_seconds()
        lines = [
            f"validation of one `{contract.name}` day: {table.num_rows:,} rows, "
            f"{table.num_columns} columns, source {args.source} (built in {build:.1f} s); "
            f"GX import {gx_import:.2f} s (once per process, not below)",
            "",
            "| engine | GX s | precheck s | total s | rows quarantined | GX rows confirmed "
            "| disagreements |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        last = None
        day = GENERATED_DAY if args.source == "generator" else DAY
        for engine in args.engines.split(","):
            t0 = time.perf_counter()
            v = validate_day(table, contract, day, TZ, engine=engine)
            total = time.perf_counter() - t0
            lines.append(
                f"| {engine} | {v.gx_seconds:.2f} | {v.precheck_seconds:.2f} | {total:.2f} "
                f"| {v.rows_failed:,} | {v.confirmed_rows:,} | {len(v.disagreements)} |"
            )
            last = v
        if args.docs and last is not None:
            t0 = time.perf_counter()
            write_data_docs({contract.name: last}, Path(tmp) / "docs", day)
            lines += ["", f"write_data_docs: {time.perf_counter() - t0:.2f} s"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
