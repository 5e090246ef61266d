"""The warehouse layer on real DuckDB files and the real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from outcome_pipeline.errors import ConfigError
from outcome_pipeline.warehouse import PartitionWindow, PartitionWrite, TableDef, Warehouse
from outcome_pipeline.warehouse.tables import ColumnDef, check_identifier

EVENTS = TableDef(
    name="events",
    comment="Test table. Grain: one row per event.",
    columns=(
        ColumnDef("partition_date", pa.date32(), "Partition day."),
        ColumnDef("feed", pa.string(), "Feed."),
        ColumnDef("event_id", pa.string(), "Id."),
        ColumnDef("at", pa.timestamp("us", tz="UTC"), "When (UTC)."),
        ColumnDef("n", pa.int64(), "A count."),
        ColumnDef("x", pa.float64(), "A measure."),
        ColumnDef("flag", pa.bool_(), "A flag."),
    ),
    order_by=("event_id",),
)


def rows(day: date, ids: list[str], feed: str = "a") -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "partition_date": pa.array([day] * n, pa.date32()),
            "feed": [feed] * n,
            "event_id": ids,
            "at": pa.array(
                [datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)] * n, pa.timestamp("us", "UTC")
            ),
            "n": pa.array(range(n), pa.int64()),
            "x": pa.array([1.5] * n),
            "flag": pa.array([i % 2 == 0 for i in range(n)]),
        }
    )


def test_replace_partition_is_idempotent_and_leaves_other_days(warehouse: Warehouse) -> None:
    warehouse.create_tables([EVENTS])
    warehouse.create_tables([EVENTS])  # DDL is idempotent
    d1, d2, d3 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)
    warehouse.replace_partitions([PartitionWrite(EVENTS, d1, d2, rows(d1, ["a", "b"]))])
    warehouse.replace_partitions([PartitionWrite(EVENTS, d2, d3, rows(d2, ["c"]))])
    first = warehouse.read_table(EVENTS)
    warehouse.replace_partitions([PartitionWrite(EVENTS, d1, d2, rows(d1, ["a", "b"]))])
    assert warehouse.read_table(EVENTS).equals(first)
    warehouse.replace_partitions([PartitionWrite(EVENTS, d1, d2, rows(d1, ["z"]))])
    got = warehouse.read_table(EVENTS)
    assert got["event_id"].to_pylist() == ["z", "c"]
    assert got["at"][0].as_py() == datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_match_limits_the_delete_to_one_writer(warehouse: Warehouse) -> None:
    warehouse.create_tables([EVENTS])
    d1, d2 = date(2024, 1, 1), date(2024, 1, 2)
    warehouse.replace_partitions(
        [PartitionWrite(EVENTS, d1, d2, rows(d1, ["a"], "a"), (("feed", "a"),))]
    )
    warehouse.replace_partitions(
        [PartitionWrite(EVENTS, d1, d2, rows(d1, ["b"], "b"), (("feed", "b"),))]
    )
    warehouse.replace_partitions(
        [PartitionWrite(EVENTS, d1, d2, rows(d1, ["a2"], "a"), (("feed", "a"),))]
    )
    assert sorted(warehouse.read_table(EVENTS)["event_id"].to_pylist()) == ["a2", "b"]


def test_failed_write_leaves_previous_partition_intact(warehouse: Warehouse) -> None:
    warehouse.create_tables([EVENTS])
    d1, d2 = date(2024, 1, 1), date(2024, 1, 2)
    warehouse.replace_partitions([PartitionWrite(EVENTS, d1, d2, rows(d1, ["a", "b"]))])
    before = warehouse.read_table(EVENTS)
    with pytest.raises(RuntimeError, match="injected"), warehouse.begin() as conn:
        warehouse.delete_window(conn, EVENTS, d1, d2)
        warehouse.insert_rows(conn, EVENTS, rows(d1, ["x", "y", "z"]))
        raise RuntimeError("injected crash between insert and commit")
    assert warehouse.read_table(EVENTS).equals(before)


def test_streamed_partition_writes_replace_the_window_or_nothing(warehouse: Warehouse) -> None:
    """``replacing``: rows streamed in several inserts replace the window in one transaction;
    a failure after some inserts leaves the previous rows; a write outside its windows and
    overlapping windows of one table are refused."""
    warehouse.create_tables([EVENTS])
    d1, d2, d3 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)
    warehouse.replace_partitions([PartitionWrite(EVENTS, d1, d3, rows(d1, ["old"]))])
    with warehouse.replacing([PartitionWindow(EVENTS, d1, d3)]) as insert:
        insert(EVENTS, rows(d1, ["a"]))
        insert(EVENTS, rows(d2, ["b", "c"]))
    assert sorted(warehouse.read_table(EVENTS)["event_id"].to_pylist()) == ["a", "b", "c"]
    window = [PartitionWindow(EVENTS, d1, d3)]
    with pytest.raises(RuntimeError, match="crash"), warehouse.replacing(window) as insert:
        insert(EVENTS, rows(d1, ["x"]))
        raise RuntimeError("crash")
    assert sorted(warehouse.read_table(EVENTS)["event_id"].to_pylist()) == ["a", "b", "c"]
    other = TableDef(name="others", comment="Grain: test.", columns=EVENTS.columns)
    with pytest.raises(ValueError, match="no window"), warehouse.replacing(window) as insert:
        insert(other, rows(d1, ["y"]))
    overlapping = [PartitionWindow(EVENTS, d1, d3), PartitionWindow(EVENTS, d2, d3)]
    with pytest.raises(ValueError, match="overlapping windows"), warehouse.replacing(overlapping):
        pass
    assert sorted(warehouse.read_table(EVENTS)["event_id"].to_pylist()) == ["a", "b", "c"]


def _reader(*tables: pa.Table, fail_after: int | None = None) -> pa.RecordBatchReader:
    """The tables' rows as a stream of batches; ``fail_after``: raise after that many."""

    def batches() -> Iterator[pa.RecordBatch]:
        for i, table in enumerate(tables):
            if fail_after is not None and i == fail_after:
                raise RuntimeError("stream broke")
            yield from table.to_batches()

    return pa.RecordBatchReader.from_batches(tables[0].schema, batches())


def test_a_stream_of_batches_is_inserted_like_the_table(warehouse: Warehouse) -> None:
    """``insert`` takes a RecordBatchReader (one insert / one COPY fed batch by batch): the
    same rows as the whole table, columns cast to the table's, rows counted; an empty
    stream inserts nothing."""
    warehouse.create_tables([EVENTS])
    d1, d2, d3 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)
    parts = [rows(d1, ["a", "b"]), rows(d1, ["c"]), rows(d2, ["d", "e", "f"])]
    # Columns out of order and an int32 count: conformed per batch as a table would be.
    shuffled = [p.select(["n", *EVENTS.column_names[:-3], "flag", "x"]) for p in parts]
    shuffled = [p.set_column(0, "n", p["n"].cast(pa.int32())) for p in shuffled]
    with warehouse.replacing([PartitionWindow(EVENTS, d1, d3)]) as insert:
        assert insert(EVENTS, _reader(*shuffled)) == 6
        assert insert(EVENTS, pa.RecordBatchReader.from_batches(EVENTS.arrow_schema, [])) == 0
    whole = pa.concat_tables(parts).sort_by("event_id")
    assert warehouse.read_table(EVENTS).to_pylist() == whole.to_pylist()


def test_a_stream_failing_midway_leaves_the_previous_partitions(warehouse: Warehouse) -> None:
    """A stream that breaks after some of its batches were inserted (the engine session
    failing while the outcome tables are read out) rolls the whole write back: the deletes,
    the other tables' inserts and the batches already inserted."""
    other = TableDef(name="others", comment="Grain: test.", columns=EVENTS.columns)
    warehouse.create_tables([EVENTS, other])
    d1, d2 = date(2024, 1, 1), date(2024, 1, 2)
    warehouse.replace_partitions(
        [
            PartitionWrite(EVENTS, d1, d2, rows(d1, ["old1", "old2"])),
            PartitionWrite(other, d1, d2, rows(d1, ["kept"])),
        ]
    )
    before = warehouse.read_table(EVENTS), warehouse.read_table(other)
    windows = [PartitionWindow(other, d1, d2), PartitionWindow(EVENTS, d1, d2)]
    with pytest.raises(RuntimeError, match="stream broke"), warehouse.replacing(windows) as insert:
        insert(other, _reader(rows(d1, ["new"])))
        insert(EVENTS, _reader(rows(d1, ["a"]), rows(d1, ["b"]), rows(d1, ["c"]), fail_after=2))
    assert (warehouse.read_table(EVENTS), warehouse.read_table(other)) == before
    # The warehouse is usable afterwards (the failed COPY / insert left no open state).
    warehouse.replace_partitions([PartitionWrite(EVENTS, d1, d2, _reader(rows(d1, ["z"])))])
    assert warehouse.read_table(EVENTS)["event_id"].to_pylist() == ["z"]


def test_text_round_trips_through_the_bulk_path(warehouse: Warehouse) -> None:
    """Commas, quotes, newlines, unicode, empty string vs NULL survive DuckDB scan and PG COPY."""
    warehouse.create_tables([EVENTS])
    d1, d2 = date(2024, 1, 1), date(2024, 1, 2)
    tricky = ["a,b", 'say "hi"', "two\nlines", "é ✓ 日本", "", None, "\\N", "NULL"]
    table = rows(d1, [f"id{i}" for i in range(len(tricky))])
    table = table.set_column(1, "feed", pa.array(tricky, pa.string()))
    table = table.set_column(4, "n", pa.array([None, 1, 2, 3, 4, 5, 6, 7], pa.int64()))
    warehouse.replace_partitions([PartitionWrite(EVENTS, d1, d2, table)])
    got = warehouse.read_table(EVENTS)
    assert got["feed"].to_pylist() == tricky
    assert got["n"].to_pylist() == [None, 1, 2, 3, 4, 5, 6, 7]


def test_read_arrow_returns_typed_rows_in_bulk(warehouse: Warehouse) -> None:
    warehouse.create_tables([EVENTS])
    d1, d2 = date(2024, 1, 1), date(2024, 1, 2)
    table = rows(d1, [f"id{i:05d}" for i in range(20_000)])
    table = table.set_column(1, "feed", pa.array(["", None, 'a,"b"\nc', "x"] * 5_000))
    warehouse.replace_partitions([PartitionWrite(EVENTS, d1, d2, table)])
    cols = ", ".join(f'"{c}"' for c in EVENTS.column_names)
    got = warehouse.read_arrow(
        f"SELECT {cols} FROM {warehouse.qualified('events')} ORDER BY event_id", EVENTS.arrow_schema
    )
    assert got.equals(table.cast(EVENTS.arrow_schema))
    empty = warehouse.read_arrow(
        f"SELECT {cols} FROM {warehouse.qualified('events')} WHERE false", EVENTS.arrow_schema
    )
    assert empty.num_rows == 0 and empty.schema == EVENTS.arrow_schema


def test_column_comments_are_in_the_warehouse(warehouse: Warehouse) -> None:
    warehouse.create_tables([EVENTS])
    if warehouse.dialect == "duckdb":
        sql = (
            "SELECT comment FROM duckdb_columns() WHERE schema_name = :s "
            "AND table_name = 'events' AND column_name = 'event_id'"
        )
    else:
        sql = (
            "SELECT col_description(format('%I.%I', CAST(:s AS text), 'events')::regclass, "
            "(SELECT ordinal_position FROM information_schema.columns "
            "WHERE table_schema = CAST(:s AS text) AND table_name = 'events' "
            "AND column_name = 'event_id')::int)"
        )
    assert warehouse.query(sql, {"s": warehouse.schema}).column(0).to_pylist() == ["Id."]


@pytest.mark.parametrize("bad", ["Robert'); DROP TABLE x;--", "UPPER", "a-b", "", "x" * 64])
def test_identifiers_are_validated(bad: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        check_identifier(bad)
    with pytest.raises(ValueError):
        Warehouse("duckdb:///:memory:", schema=bad)


def test_unsupported_dialect_is_refused() -> None:
    with pytest.raises(ConfigError, match="does not support"):
        Warehouse("sqlite:///x.db")


def _comments(wh: Warehouse) -> list[str]:
    """The table comment as each dialect reports it."""
    if wh.dialect == "duckdb":
        sql = "SELECT comment FROM duckdb_tables() WHERE schema_name = :s AND table_name = 'events'"
    else:
        sql = "SELECT obj_description(to_regclass(:s || '.events'), 'pg_class') AS comment"
    return wh.query(sql, {"s": wh.schema}).column(0).to_pylist()


def test_ddl_is_applied_once_and_again_when_a_definition_changes(warehouse: Warehouse) -> None:
    import dataclasses

    warehouse.create_tables([EVENTS])
    applied = warehouse.query(f"SELECT ddl_hash FROM {warehouse.qualified('_ddl_applied')}")
    warehouse.create_tables([EVENTS])  # same definitions: one lookup, nothing recorded
    again = warehouse.query(f"SELECT ddl_hash FROM {warehouse.qualified('_ddl_applied')}")
    assert applied.num_rows == again.num_rows == 1
    assert _comments(warehouse) == [EVENTS.comment]
    changed = dataclasses.replace(EVENTS, comment="Events, described better.")
    warehouse.create_tables([changed])
    assert _comments(warehouse) == ["Events, described better."]
    recorded = warehouse.query(f"SELECT ddl_hash FROM {warehouse.qualified('_ddl_applied')}")
    assert recorded.num_rows == 2


def test_insert_does_not_hold_the_arrow_rows_until_commit(warehouse: Warehouse) -> None:
    """A long transaction (a staging range) must not keep every inserted day's Arrow buffers
    alive until it commits: memory would grow with the range (DuckDB keeps a view registered
    inside a transaction until it ends)."""
    warehouse.create_tables([EVENTS])
    day = date(2024, 1, 1)
    ids = [f"event-{i:07d}-{'x' * 40}" for i in range(50_000)]
    with warehouse.begin() as conn:
        baseline = pa.total_allocated_bytes()
        for _ in range(3):
            table = rows(day, ids)
            warehouse.insert_rows(conn, EVENTS, table)
            del table
        held = pa.total_allocated_bytes() - baseline
    assert held < 1_000_000, f"{held} bytes of inserted Arrow rows still held in the transaction"
    assert warehouse.query(f"SELECT count(*) AS n FROM {warehouse.qualified('events')}").column(
        "n"
    )[0].as_py() == 3 * len(ids)


def test_a_warehouse_of_an_earlier_version_gains_the_new_columns(warehouse: Warehouse) -> None:
    """A table created before columns were added (here: without ``n`` and ``flag``) is not
    rebuilt: the new columns are added, NULL in the old rows, and new rows land in the right
    columns although the table's column order now differs from the definition's."""
    old = TableDef(
        name=EVENTS.name,
        comment=EVENTS.comment,
        columns=tuple(c for c in EVENTS.columns if c.name not in ("n", "flag")),
        order_by=EVENTS.order_by,
    )
    day = date(2024, 1, 1)
    warehouse.create_tables([old])
    warehouse.replace_partitions(
        [PartitionWrite(old, day, date(2024, 1, 2), rows(day, ["e1"]).drop(["n", "flag"]))]
    )
    warehouse.create_tables([EVENTS])
    new_day = date(2024, 1, 2)
    fresh = rows(new_day, ["e2", "e3"])
    warehouse.replace_partitions([PartitionWrite(EVENTS, new_day, date(2024, 1, 3), fresh)])
    got = warehouse.read_table(EVENTS).select(EVENTS.column_names).to_pylist()
    assert got[0]["event_id"] == "e1" and got[0]["n"] is None and got[0]["flag"] is None
    assert got[1:] == fresh.select(EVENTS.column_names).to_pylist()


def test_analyze_gives_postgres_statistics_and_leaves_duckdb_alone(warehouse: Warehouse) -> None:
    warehouse.create_tables([EVENTS])
    d1, d2 = date(2024, 1, 1), date(2024, 1, 2)
    warehouse.replace_partitions([PartitionWrite(EVENTS, d1, d2, rows(d1, ["a", "b", "c"]))])
    warehouse.analyze([EVENTS, EVENTS])  # a table named twice is analysed once
    if warehouse.dialect != "postgresql":
        assert warehouse.count("events") == 3
        return
    reltuples = warehouse.query(
        "SELECT c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :s AND c.relname = 'events'",
        {"s": warehouse.schema},
    ).to_pylist()
    # -1 until the table is first analysed; this server runs without autovacuum.
    assert reltuples == [{"reltuples": 3.0}]
