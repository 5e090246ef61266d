"""SharedReads: a feed the chunks of a run share is streamed out of the warehouse once, and
each request it covers gets exactly the rows a SELECT of its partitions returns."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from outcome_pipeline.outcomes import InputWindow, input_schema
from outcome_pipeline.outcomes.shared_reads import READS_PREFIX, SHARED_INPUTS, SharedReads
from outcome_pipeline.outcomes.warehouse_selects import partitions_select
from outcome_pipeline.warehouse.tables import STAGING_TABLES

D0 = date(2024, 3, 1)
DAYS = 20


class FakeWarehouse:
    """Staging-shaped tables in an in-memory DuckDB; ``read`` counts the SELECTs run."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.selects: list[str] = []
        for name in SHARED_INPUTS:
            schema = input_schema(name)
            n = DAYS * 50
            columns = {}
            for field in schema:
                if field.name == "partition_date":
                    columns[field.name] = pa.array(
                        [D0 + timedelta(days=i % DAYS) for i in range(n)], pa.date32()
                    )
                elif pa.types.is_string(field.type):
                    columns[field.name] = pa.array([f"{field.name}{i}" for i in range(n)])
                else:
                    columns[field.name] = pa.nulls(n, field.type)
            self.con.register("src", pa.table(columns, schema=schema))
            self.con.execute(f"CREATE TABLE {STAGING_TABLES[name].name} AS SELECT * FROM src")
            self.con.unregister("src")

    @staticmethod
    def qualify(table: str) -> str:
        return table

    def read(self, sql: str, schema: pa.Schema) -> Iterator[pa.Table]:
        self.selects.append(sql)
        for batch in self.con.sql(sql).to_arrow_reader(100):
            yield pa.Table.from_batches([batch]).cast(schema)

    def direct(self, name: str, first: date | None, last: date) -> pa.Table:
        sql = partitions_select(self.qualify, name, first, last)
        return self.con.sql(sql).to_arrow_table().cast(input_schema(name))


def _rows(tables: Iterator[pa.Table], name: str) -> pa.Table:
    table = pa.concat_tables([input_schema(name).empty_table(), *tables])
    return table.sort_by([("partition_date", "ascending"), (table.column_names[1], "ascending")])


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by([("partition_date", "ascending"), (table.column_names[1], "ascending")])


@pytest.fixture
def wh() -> FakeWarehouse:
    return FakeWarehouse()


def test_a_covered_request_is_served_from_the_kept_rows(wh: FakeWarehouse, tmp_path: Path) -> None:
    shared = SharedReads(wh.read, wh.qualify, tmp_path)
    last = D0 + timedelta(days=15)
    for first in (D0 + timedelta(days=2), D0 + timedelta(days=5), D0 + timedelta(days=11)):
        got = _rows(shared.tables("survey_responses", first, last), "survey_responses")
        assert got.equals(_sorted(wh.direct("survey_responses", first, last)))
        # An earlier end is covered too.
        early = last - timedelta(days=4)
        got = _rows(shared.tables("survey_responses", first, early), "survey_responses")
        assert got.equals(_sorted(wh.direct("survey_responses", first, early)))
    assert len(wh.selects) == 1
    for _ in range(2):  # histories: from the first partition
        got = _rows(shared.tables("customers", None, last), "customers")
        assert got.equals(_sorted(wh.direct("customers", None, last)))
    assert len(wh.selects) == 2
    assert shared.rows_reused > 0


def test_a_request_not_covered_reads_again(wh: FakeWarehouse, tmp_path: Path) -> None:
    shared = SharedReads(wh.read, wh.qualify, tmp_path)
    first, last = D0 + timedelta(days=5), D0 + timedelta(days=10)
    list(shared.tables("survey_responses", first, last))
    for f, to in (
        (first - timedelta(days=1), last),
        (first, last + timedelta(days=1)),
        (None, last),
    ):
        got = _rows(shared.tables("survey_responses", f, to), "survey_responses")
        assert got.equals(_sorted(wh.direct("survey_responses", f, to)))
    assert len(wh.selects) == 4
    # The last read (from the first partition) covers every earlier request.
    list(shared.tables("survey_responses", first, last))
    assert len(wh.selects) == 4


def test_a_read_stopped_early_is_not_kept(wh: FakeWarehouse, tmp_path: Path) -> None:
    shared = SharedReads(wh.read, wh.qualify, tmp_path)
    last = D0 + timedelta(days=15)
    stream = shared.tables("subscription_events", None, last)
    next(stream)
    stream.close()
    got = _rows(shared.tables("subscription_events", None, last), "subscription_events")
    assert got.equals(_sorted(wh.direct("subscription_events", None, last)))
    assert len(wh.selects) == 2


def test_streamed_inputs_take_the_shared_feeds_by_the_window(
    wh: FakeWarehouse, tmp_path: Path
) -> None:
    shared = SharedReads(wh.read, wh.qualify, tmp_path)
    window = InputWindow(D0 + timedelta(days=3), D0 + timedelta(days=12))
    inputs = shared.streamed_inputs({"interactions": "SELECT 1"}, window)
    assert set(inputs.tables) == set(SHARED_INPUTS)
    assert inputs.read == wh.read
    got = _rows(inputs.tables["survey_responses"](), "survey_responses")
    assert got.equals(_sorted(wh.direct("survey_responses", window.start, window.end)))
    got = _rows(inputs.tables["customers"](), "customers")
    assert got.equals(_sorted(wh.direct("customers", None, window.end)))
    with pytest.raises(ValueError, match="not read once per run"):
        list(shared.tables("cases", None, window.end))


def test_close_removes_the_folder_and_dead_runs_folders_go(tmp_path: Path) -> None:
    dead = tmp_path / f"{READS_PREFIX}999999999_abc"
    dead.mkdir()
    alive = tmp_path / f"{READS_PREFIX}{os.getpid()}_abc"
    alive.mkdir()
    shared = SharedReads(lambda sql, schema: iter(()), lambda t: t, tmp_path)
    assert not dead.exists() and alive.exists()
    assert shared.folder.parent == tmp_path and shared.folder.name.startswith(READS_PREFIX)
    shared.close()
    assert not shared.folder.exists()
