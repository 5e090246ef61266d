"""Native staging rate: the Arrow reader against the native contracts' identity mappings.

One run writes the same N interactions as one landed day (``interactions/<day>/``) in the
native formats — CSV, JSON lines, gzip CSV and Parquet — then stages each with
``stage_day`` (discovery, read, type, dedupe, accounting; no row validator) in a fresh
child process, once per reader (``OUTCOME_NATIVE_INGEST=reader`` and ``=mapping``), the two
readers interleaved so a change in machine load hits both. Ratios within one run are the
figure to compare on a shared machine.

    .venv/bin/python -m benchmarks.native_ingest_bench --rows 100000 [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from benchmarks.mapping_bench import TZ, _peak_mib, synth, write_files
from outcome_pipeline.contracts.feeds import INTERACTIONS

DAY = date(2024, 1, 2)
FORMATS = ("csv", "jsonl", "csv.gz", "parquet")


def landing(rows: int, root: Path) -> dict[str, Path]:
    """One landing root per format, each holding the day's one file."""
    table = synth(rows)
    files = write_files(table, root / "src")
    out = {}
    for fmt in FORMATS:
        folder = root / fmt / "interactions" / DAY.isoformat()
        folder.mkdir(parents=True)
        target = folder / f"interactions.{fmt}"
        if fmt == "csv.gz":
            with files["csv"].open("rb") as src, gzip.open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
        elif fmt == "parquet":
            pq.write_table(table, target)
        else:
            shutil.copy(files[fmt], target)
        out[fmt] = root / fmt
    return out


def child(root: Path, mode: str) -> dict[str, object]:
    # Imports before the clock: both readers are timed from discovery to staged Arrow.
    from outcome_pipeline.ingest.stage import stage_day

    base = _peak_mib()
    t0 = time.perf_counter()
    day = stage_day(root, INTERACTIONS, DAY, TZ, native_ingest=mode)
    seconds = time.perf_counter() - t0
    peak = _peak_mib()
    return {
        "seconds": seconds,
        "rows_read": day.rows_read,
        "rows_staged": day.rows_staged,
        "rows_quarantined": day.rows_quarantined,
        "added_mib": peak - base,
    }


def run_child(root: Path, mode: str) -> dict[str, object]:
    args = [sys.executable, "-m", "benchmarks.native_ingest_bench", "--child", str(root)]
    args += ["--mode", mode]
    done = subprocess.run(args, check=True, capture_output=True, text=True, env=os.environ)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--formats", default=",".join(FORMATS))
    p.add_argument("--child", type=Path)
    p.add_argument("--mode", default="reader")
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(child(a.child, a.mode)))
        return 0
    load = os.getloadavg()
    lines = [
        f"# Native staging, {a.rows} rows, {date.today()}, load {load[0]:.1f} at start",
        "",
        f"| file | reader s (best of {a.repeat}) | identity mapping s | reader rows/s | "
        "mapping rows/s | mapping / reader rate | reader MiB | mapping MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        roots = landing(a.rows, Path(tmp))
        for fmt in a.formats.split(","):
            runs: dict[str, list[dict]] = {"reader": [], "mapping": []}
            for _ in range(a.repeat):
                for mode in runs:
                    runs[mode].append(run_child(roots[fmt], mode))
            best = {m: min(r, key=lambda x: x["seconds"]) for m, r in runs.items()}
            r, m = best["reader"], best["mapping"]
            if (r["rows_staged"], r["rows_quarantined"]) != (
                m["rows_staged"],
                m["rows_quarantined"],
            ):
                raise SystemExit(f"{fmt}: the readers disagree: {r} vs {m}")
            rr, mr = a.rows / r["seconds"], a.rows / m["seconds"]
            lines.append(
                f"| interactions.{fmt} | {r['seconds']:.2f} | {m['seconds']:.2f} | {rr:,.0f} | "
                f"{mr:,.0f} | {mr / rr:.2f} | {r['added_mib']:.0f} | {m['added_mib']:.0f} |"
            )
    load = os.getloadavg()
    lines += ["", f"load {load[0]:.1f} at the end"]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
