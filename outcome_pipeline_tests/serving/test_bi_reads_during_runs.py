"""BI reads while runs write: a second process reads in a loop, runs replace partitions.

Each run writes ``load_audit`` and then, in another transaction, ``daily_outcomes`` (as the
pipeline's assets do). Every BI read must see, for every day and both tables, the rows of one
run: the old ones or the new ones (the two legal row counts), never a mix of runs across
tables or days. Zero errors on the reader's side, and on DuckDB a reader holding the BI copy
open all along must not make any run fail. On PostgreSQL a reader of the working schema does
see mixes (what BI saw before the BI schema): the test can tell.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest

from outcome_pipeline.defs.automation.jobs import RANGE_END, RANGE_START
from outcome_pipeline.defs.resources import WarehouseResource
from outcome_pipeline.defs.serving.assets import BiServingResource, bi_views
from outcome_pipeline.serving import bi_schema_name
from outcome_pipeline_tests.conftest import _drop_schema
from outcome_pipeline_tests.serving.writer import (
    PAUSE_TAG,
    ROWS_TAG,
    synthetic_daily_outcomes,
    synthetic_load_audit,
)

pytestmark = pytest.mark.slow
LEGAL = (1000, 2000)
RUNS = 8
DAYS = ("2024-01-01", "2024-01-02", "2024-01-03")
KEYS = sorted(f"{kind}:{day}" for kind in ("audit", "outcomes") for day in DAYS)


def write(url: str, schema: str, copy: Path, rows: int) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [synthetic_load_audit, synthetic_daily_outcomes, bi_views],
        tags={
            RANGE_START: DAYS[0],
            RANGE_END: DAYS[-1],
            ROWS_TAG: str(rows),
            PAUSE_TAG: "0.3",  # between the load audit's commit and the outcomes'
        },
        resources={
            "warehouse": WarehouseResource(url=url, schema_name=schema),
            "bi": BiServingResource(copy_path=str(copy)),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )


def spawn(tmp: Path, mode: str, *args: str) -> tuple[subprocess.Popen, Path, Path]:
    stop, out = tmp / f"{mode}.stop", tmp / f"{mode}.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "outcome_pipeline_tests.serving.reader",
            mode,
            *args,
            str(stop),
            str(out),
        ]
    )
    return proc, stop, out


def collect(proc: subprocess.Popen, stop: Path, out: Path) -> dict:
    stop.write_text("stop")
    assert proc.wait(timeout=60) == 0
    return json.loads(out.read_text())


def judge(result: dict) -> set[int]:
    assert result["errors"] == []
    assert len(result["reads"]) > 20, "the reader barely ran"
    seen: set[int] = set()
    for read in result["reads"]:
        assert sorted(read) == KEYS, read
        versions = set(read.values())
        assert len(versions) == 1 and versions <= set(LEGAL), read  # never a mix, never partial
        seen |= versions
    return seen


def mixed(result: dict) -> int:
    """Reads that saw two runs at once (tables or days of different runs)."""
    assert result["errors"] == []
    return sum(len(set(read.values())) > 1 for read in result["reads"])


def alternate_writes(url: str, schema: str, copy: Path) -> list[float]:
    """RUNS runs, alternating the legal row counts; publish times (DuckDB) in seconds."""
    seconds = []
    for i in range(RUNS):
        before = copy.stat().st_ino if copy.exists() else None
        result = write(url, schema, copy, LEGAL[(i + 1) % 2])
        assert result.success
        meta = result.asset_materializations_for_node("bi_views")[0].metadata
        if "path" in meta:  # DuckDB: a published file
            seconds.append(meta["publish_seconds"].value)
            # A new file renamed into place each time, never the old one rewritten in place
            # (what a reader holding the old copy relies on).
            assert copy.stat().st_ino != before
        time.sleep(0.05)  # let the reader catch each version
    return seconds


def test_duckdb_bi_copy_is_never_torn_and_never_blocks_a_run(tmp_path: Path) -> None:
    url, copy = f"duckdb:///{tmp_path}/warehouse.duckdb", tmp_path / "warehouse_bi.duckdb"
    assert write(url, "outcome", copy, LEGAL[0]).success
    holder, hold_stop, hold_out = spawn(tmp_path, "duckdb-hold", str(copy))
    deadline = time.monotonic() + 30
    while not Path(f"{hold_out}.ready").exists():
        assert time.monotonic() < deadline and holder.poll() is None
        time.sleep(0.02)
    reader = spawn(tmp_path, "duckdb-loop", str(copy), "outcome")
    try:
        seconds = alternate_writes(url, "outcome", copy)
    finally:
        result = collect(*reader)
        held = collect(holder, hold_stop, hold_out)
    assert judge(result) == set(LEGAL)
    assert held["errors"] == [] and held["reads"] > 0
    assert len(seconds) == RUNS and max(seconds) < 5
    assert not list(tmp_path.glob(".warehouse_bi.duckdb.*"))  # no temporary file left


@pytest.mark.postgres
def test_postgres_bi_schema_shows_one_run_at_a_time(pg_url: str, tmp_path: Path) -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        assert write(pg_url, schema, tmp_path / "unused.duckdb", LEGAL[0]).success
        reader = spawn(tmp_path, "pg-loop", pg_url, bi_schema_name(schema))
        working = spawn(tmp_path, "pg-tables", pg_url, schema)
        try:
            alternate_writes(pg_url, schema, tmp_path / "unused.duckdb")
        finally:
            result = collect(*reader)
            seen_working = collect(*working)
        assert judge(result) == set(LEGAL)
        # The working schema, read the same way at the same time, shows the new load audit
        # beside the old outcomes: what the BI schema is for.
        assert mixed(seen_working) > 0
        assert not (tmp_path / "unused.duckdb").exists()  # PostgreSQL: a schema, no file
    finally:
        _drop_schema(pg_url, schema)
