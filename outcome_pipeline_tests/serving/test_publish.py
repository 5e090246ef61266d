"""publish_duckdb_copy without Dagster: a checked copy, atomic, and harmless when it fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from outcome_pipeline.defs.automation.retries import transient_reason
from outcome_pipeline.serving import default_copy_path, duckdb_file, publish_duckdb_copy


def make_warehouse(path: Path, rows: int) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA IF NOT EXISTS outcome")
    con.execute("CREATE OR REPLACE TABLE outcome.stg_x AS SELECT range AS id FROM range(?)", [rows])
    con.close()


def test_copy_has_the_rows_and_no_wal(tmp_path: Path) -> None:
    source = tmp_path / "warehouse.duckdb"
    make_warehouse(source, 1000)
    published = publish_duckdb_copy(source, default_copy_path(source), "outcome", with_views=False)
    assert published.path == tmp_path / "warehouse_bi.duckdb"
    assert published.row_counts == {"stg_x": 1000}
    assert not Path(f"{published.path}.wal").exists()
    con = duckdb.connect(str(published.path), read_only=True)
    assert con.execute("SELECT count(*) FROM outcome.stg_x").fetchall() == [(1000,)]
    con.close()
    assert published.path.stat().st_mode & 0o222 == 0  # read-only on disk as well


def test_a_held_warehouse_fails_the_publish_transiently_and_keeps_the_old_copy(
    tmp_path: Path,
) -> None:
    source, target = tmp_path / "warehouse.duckdb", tmp_path / "bi.duckdb"
    make_warehouse(source, 10)
    publish_duckdb_copy(source, target, "outcome", with_views=False)
    make_warehouse(source, 20)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(60)",
            str(source),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.IOException) as err:
            publish_duckdb_copy(source, target, "outcome", with_views=False)
        assert transient_reason(err.value) == "the DuckDB warehouse file is held by another process"
    finally:
        holder.kill()
        holder.wait()
    con = duckdb.connect(str(target), read_only=True)
    assert con.execute("SELECT count(*) FROM outcome.stg_x").fetchall() == [(10,)]
    con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bi.duckdb", "warehouse.duckdb"]


def test_refuses_to_publish_over_the_warehouse_and_parses_urls(tmp_path: Path) -> None:
    source = tmp_path / "w.duckdb"
    make_warehouse(source, 1)
    with pytest.raises(ValueError):
        publish_duckdb_copy(source, source, "outcome")
    assert duckdb_file(f"duckdb:///{source}") == source
    assert duckdb_file("duckdb:///:memory:") is None
    assert duckdb_file("postgresql+psycopg://u@h/db") is None
