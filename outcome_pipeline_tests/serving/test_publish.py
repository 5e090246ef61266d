"""publish_duckdb_copy without Dagster: a checked copy, atomic, and harmless when it fails."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from outcome_pipeline.defs.automation.retries import transient_reason
from outcome_pipeline.outcomes import OUTCOME_TABLES
from outcome_pipeline.serving import default_copy_path, duckdb_file, publish_duckdb_copy
from outcome_pipeline.serving.publish import BI_TABLES
from outcome_pipeline.warehouse import Warehouse
from outcome_pipeline.warehouse.tables import ALL_TABLES


def make_warehouse(path: Path, rows: int) -> None:
    """Every warehouse table, ``rows`` rows in load_audit and daily_outputs and one staged
    interaction with a raw email."""
    wh = Warehouse(f"duckdb:///{path}", "outcome")
    try:
        wh.create_tables([*ALL_TABLES, *OUTCOME_TABLES.values()])
    finally:
        wh.dispose()
    con = duckdb.connect(str(path))
    for table in ("load_audit", "daily_outputs"):
        con.execute(f"DELETE FROM outcome.{table}")
        con.execute(
            f"INSERT INTO outcome.{table} (partition_date) "
            "SELECT DATE '2024-01-01' + CAST(range % 30 AS INTEGER) FROM range(?)",
            [rows],
        )
    con.execute(
        "INSERT INTO outcome.stg_interactions (interaction_id, customer_email) "
        "VALUES ('ix-1', 'alice@example.com')"
    )
    con.close()


def test_copy_has_the_bi_tables_with_their_rows_and_no_wal(tmp_path: Path) -> None:
    source = tmp_path / "warehouse.duckdb"
    make_warehouse(source, 1000)
    published = publish_duckdb_copy(source, default_copy_path(source), "outcome", with_views=False)
    assert published.path == tmp_path / "warehouse_bi.duckdb"
    assert published.row_counts == {
        t.name: 1000 if t.name in ("load_audit", "daily_outputs") else 0 for t in BI_TABLES
    }
    assert not Path(f"{published.path}.wal").exists()
    con = duckdb.connect(str(published.path), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert con.execute("SELECT count(*) FROM outcome.daily_outputs").fetchall() == [(1000,)]
    # The tables keep their DDL: types and the data dictionary's comments.
    comment = con.execute(
        "SELECT comment FROM duckdb_columns() "
        "WHERE table_name = 'load_audit' AND column_name = 'rows_staged'"
    ).fetchall()
    con.close()
    assert tables == {t.name for t in BI_TABLES}  # no staging, no quarantine: raw identifiers
    assert comment == [("Rows written to the staging table.",)]
    assert published.path.stat().st_mode & 0o222 == 0  # read-only on disk as well


def test_a_warehouse_without_the_outcome_tables_is_refused_by_name(tmp_path: Path) -> None:
    source, target = tmp_path / "warehouse.duckdb", tmp_path / "bi.duckdb"
    con = duckdb.connect(str(source))
    con.execute("CREATE SCHEMA outcome")
    con.execute("CREATE TABLE outcome.load_audit (partition_date DATE)")
    con.close()
    with pytest.raises(ValueError, match="no table journeys"):
        publish_duckdb_copy(source, target, "outcome")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]


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
    assert con.execute("SELECT count(*) FROM outcome.load_audit").fetchall() == [(10,)]
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


def bi_rows(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            t.name: con.execute(f"SELECT * FROM outcome.{t.name} ORDER BY ALL").fetchall()
            for t in BI_TABLES
        }
    finally:
        con.close()


def test_a_republish_copies_only_the_partitions_that_changed(tmp_path: Path) -> None:
    source, target = tmp_path / "warehouse.duckdb", tmp_path / "bi.duckdb"
    make_warehouse(source, 300)  # 30 partitions of daily_outputs and of load_audit
    first = publish_duckdb_copy(source, target, "outcome")
    assert first.rebuilt and first.partitions_copied["daily_outputs"] == 30
    again = publish_duckdb_copy(source, target, "outcome")
    assert not again.rebuilt and set(again.partitions_copied.values()) == {0}
    assert bi_rows(target) == bi_rows(source)

    con = duckdb.connect(str(source))
    con.execute("DELETE FROM outcome.daily_outputs WHERE partition_date = DATE '2024-01-05'")
    con.execute(  # restated: fewer rows, a later as_of
        "INSERT INTO outcome.daily_outputs (partition_date, channel, as_of) "
        "SELECT DATE '2024-01-05', 'chat', TIMESTAMPTZ '2024-02-01 00:00:00+00' FROM range(7)"
    )
    con.execute("DELETE FROM outcome.daily_outputs WHERE partition_date = DATE '2024-01-06'")
    con.execute(
        "INSERT INTO outcome.daily_outputs (partition_date, channel) "
        "SELECT DATE '2024-03-01', 'email' FROM range(3)"
    )
    con.close()
    update = publish_duckdb_copy(source, target, "outcome")
    assert not update.rebuilt
    assert update.partitions_copied == {t.name: 0 for t in BI_TABLES} | {"daily_outputs": 3}
    assert bi_rows(target) == bi_rows(source)

    # Same rows and as_of, other values (a rerun after a code change, at the same as_of): the
    # fingerprint cannot tell, so the run names its own days.
    con = duckdb.connect(str(source))
    con.execute("UPDATE outcome.daily_outputs SET queue = 'q' WHERE partition_date = '2024-01-07'")
    con.close()
    assert publish_duckdb_copy(source, target, "outcome").partitions_copied["daily_outputs"] == 0
    refreshed = publish_duckdb_copy(source, target, "outcome", refresh=[date(2024, 1, 7)])
    assert refreshed.partitions_copied["daily_outputs"] == 1
    assert bi_rows(target) == bi_rows(source)


def test_an_older_bi_file_with_staging_tables_is_rebuilt_not_updated(tmp_path: Path) -> None:
    source, target = tmp_path / "warehouse.duckdb", tmp_path / "bi.duckdb"
    make_warehouse(source, 30)
    shutil.copyfile(source, target)  # what earlier versions published: the whole file
    published = publish_duckdb_copy(source, target, "outcome")
    assert published.rebuilt
    con = duckdb.connect(str(target), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    con.close()
    assert tables == {t.name for t in BI_TABLES}
    assert bi_rows(target) == bi_rows(source)
