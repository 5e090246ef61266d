"""The bulk insert paths (DuckDB Arrow scan, PostgreSQL COPY binary) on the real engines.

Values must come back exactly as they went in, a failure in the middle of a bulk insert must
leave the partition it replaced as it was, and the PostgreSQL partition index is a B-tree on
the partition column, created once.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest
import sqlalchemy as sa

from outcome_pipeline.warehouse import PartitionWrite, TableDef, Warehouse, pg_copy
from outcome_pipeline.warehouse.tables import ColumnDef

WIDE = TableDef(
    name="wide",
    comment="Test table. Grain: one row per id.",
    columns=(
        ColumnDef("partition_date", pa.date32(), "Partition day."),
        ColumnDef("id", pa.int64(), "Id."),
        ColumnDef("label", pa.string(), "Text."),
        ColumnDef("at", pa.timestamp("us", tz="UTC"), "An instant."),
        ColumnDef("local", pa.timestamp("us"), "A wall-clock time."),
        ColumnDef("day", pa.date32(), "A day."),
        ColumnDef("small", pa.int32(), "A 32-bit integer."),
        ColumnDef("x", pa.float64(), "A measure."),
        ColumnDef("flag", pa.bool_(), "A flag."),
        ColumnDef("note", pa.string(), "More text."),
    ),
    order_by=("id",),
)

D1, D2 = date(2024, 1, 1), date(2024, 1, 2)
TEXTS = [
    "plain",
    "",
    None,
    "a,b;c|d\te",
    "say \"hi\", 'there'",
    "two\nlines\r\nand a CR\r",
    "back\\slash \\N \\.",
    "NULL",
    "null",
    "\\N",
    "é ✓ 日本語 𝄞 🙂",
    " leading and trailing ",
    "x" * 10_000,
]
INSTANTS = [
    datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),  # before PostgreSQL's epoch
    datetime(2000, 1, 1, tzinfo=UTC),  # PostgreSQL's epoch
    datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),  # before Arrow's epoch
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    None,
]
FLOATS = [0.0, -0.0, 1.5, -2.25e-300, 1.7976931348623157e308, 5e-324, math.inf, -math.inf, None]


def _cycle(values: list, n: int) -> list:
    return [values[i % len(values)] for i in range(n)]


def wide_rows(n: int, day: date = D1, first_id: int = 0) -> pa.Table:
    """n rows cycling through tricky values (cycles of different lengths mix them)."""
    ids = list(range(first_id, first_id + n))
    ids[: min(n, 2)] = [2**63 - 1, -(2**63)][: min(n, 2)]  # BIGINT's extremes
    return pa.table(
        {
            "partition_date": pa.array([day] * n, pa.date32()),
            "id": pa.array(ids, pa.int64()),
            "label": pa.array(_cycle(TEXTS, n), pa.string()),
            "at": pa.array(_cycle(INSTANTS, n), pa.timestamp("us", "UTC")),
            "local": pa.array(
                _cycle([i.replace(tzinfo=None) if i else None for i in INSTANTS[::-1]], n),
                pa.timestamp("us"),
            ),
            "day": pa.array(
                _cycle([date(1970, 1, 1), date(1999, 12, 31), date(2000, 1, 1), None], n),
                pa.date32(),
            ),
            "small": pa.array(_cycle([0, -1, 2**31 - 1, -(2**31), None], n), pa.int32()),
            "x": pa.array(_cycle(FLOATS, n), pa.float64()),
            "flag": pa.array(_cycle([True, False, None], n), pa.bool_()),
            "note": pa.array(_cycle([None, "", "ok", *TEXTS], n), pa.string()),
        }
    )


def _assert_same(got: pa.Table, expected: pa.Table) -> None:
    got = got.sort_by("id")
    expected = expected.sort_by("id")
    assert got.num_rows == expected.num_rows
    for name in expected.column_names:
        want = expected[name].to_pylist()
        have = got[name].to_pylist()
        if name == "at":  # aware datetimes: equal instants, whatever zone they are read in
            assert all(
                h == w and (h is None) == (w is None) for h, w in zip(have, want, strict=True)
            ), name
        else:
            assert have == want, name


@pytest.fixture
def pg_warehouse(pg_url: str) -> Iterator[Warehouse]:
    """A PostgreSQL warehouse in a schema of its own, dropped afterwards."""
    wh = Warehouse(pg_url, f"t_{uuid.uuid4().hex[:12]}")
    try:
        yield wh
    finally:
        wh.dispose()
        engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{wh.schema}" CASCADE')
        engine.dispose()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several COPY chunks (and one split for its text bytes) from a few hundred rows."""
    monkeypatch.setattr(pg_copy, "COPY_ROWS", 37)
    monkeypatch.setattr(pg_copy, "COPY_MAX_TEXT_BYTES", 50_000)


@pytest.mark.usefixtures("small_chunks")
def test_tricky_values_round_trip_exactly(warehouse: Warehouse) -> None:
    warehouse.create_tables([WIDE])
    table = wide_rows(300)
    warehouse.replace_partitions([PartitionWrite(WIDE, D1, D2, table)])
    _assert_same(warehouse.read_table(WIDE), table)
    # The bulk reader agrees (it is how the pipeline reads large windows).
    cols = ", ".join(f'"{c}"' for c in WIDE.column_names)
    got = warehouse.read_arrow(
        f"SELECT {cols} FROM {warehouse.qualified('wide')}", WIDE.arrow_schema
    )
    _assert_same(got, table.cast(WIDE.arrow_schema))


@pytest.mark.usefixtures("small_chunks")
def test_sliced_chunked_and_reordered_input(warehouse: Warehouse) -> None:
    """Arrow arrays with offsets, several chunks and columns out of table order."""
    warehouse.create_tables([WIDE])
    table = wide_rows(200)
    pieces = pa.concat_tables([table.slice(0, 50), table.slice(50, 101), table.slice(151)])
    shuffled = pieces.select(list(reversed(WIDE.column_names))).slice(3, 190)
    warehouse.replace_partitions([PartitionWrite(WIDE, D1, D2, shuffled)])
    _assert_same(warehouse.read_table(WIDE), table.slice(3, 190))


def test_no_nulls_and_all_nulls(warehouse: Warehouse) -> None:
    warehouse.create_tables([WIDE])
    full = pa.table(
        {
            "partition_date": pa.array([D1] * 3, pa.date32()),
            "id": pa.array([1, 2, 3], pa.int64()),
            "label": ["a", "b", "c"],
            "at": pa.array([datetime(2024, 1, 1, tzinfo=UTC)] * 3, pa.timestamp("us", "UTC")),
            "local": pa.array([datetime(2024, 1, 1)] * 3, pa.timestamp("us")),
            "day": pa.array([D1] * 3, pa.date32()),
            "small": pa.array([1, 2, 3], pa.int32()),
            "x": [1.0, 2.0, 3.0],
            "flag": [True, False, True],
            "note": ["x", "y", "z"],
        }
    )
    empty = pa.table(
        {
            name: pa.array([None] * 3, WIDE.arrow_schema.field(name).type)
            if name not in ("partition_date", "id")
            else full[name]
            for name in WIDE.column_names
        }
    )
    warehouse.replace_partitions([PartitionWrite(WIDE, D1, D2, full)])
    _assert_same(warehouse.read_table(WIDE), full)
    warehouse.replace_partitions([PartitionWrite(WIDE, D1, D2, empty)])
    _assert_same(warehouse.read_table(WIDE), empty)


OTHER_WIDTHS = TableDef(
    name="other_widths",
    comment="Test table. Grain: one row per id.",
    columns=(
        ColumnDef("partition_date", pa.date64(), "Partition day (milliseconds)."),
        ColumnDef("id", pa.int32(), "Id."),
        ColumnDef("label", pa.large_string(), "Text, 64-bit offsets."),
        ColumnDef("at", pa.timestamp("ms", tz="UTC"), "An instant, milliseconds."),
        ColumnDef("local", pa.timestamp("s"), "A wall-clock time, seconds."),
        ColumnDef("x", pa.float32(), "A single-precision measure."),
    ),
    order_by=("id",),
)


def test_other_arrow_widths_round_trip(warehouse: Warehouse) -> None:
    """Tables may declare large_string, second/millisecond timestamps, date64 or float32."""
    warehouse.create_tables([OTHER_WIDTHS])
    table = pa.table(
        {
            "partition_date": pa.array([D1, D1, D1], pa.date64()),
            "id": pa.array([1, 2, 3], pa.int32()),
            "label": pa.array(["é\n", None, ""], pa.large_string()),
            "at": pa.array(
                [datetime(1960, 5, 6, 7, 8, 9, 123_000, tzinfo=UTC), None, INSTANTS[0]],
                pa.timestamp("ms", "UTC"),
            ),
            "local": pa.array([datetime(2024, 5, 6, 7, 8, 9), None, None], pa.timestamp("s")),
            "x": pa.array([0.5, None, -1.25], pa.float32()),
        }
    )
    warehouse.replace_partitions([PartitionWrite(OTHER_WIDTHS, D1, D2, table)])
    _assert_same(warehouse.read_table(OTHER_WIDTHS), table)


def _invalid_utf8_rows(n: int, bad_at: int) -> pa.Table:
    """Rows whose ``label`` at ``bad_at`` is not UTF-8: both engines refuse it mid-insert."""
    table = wide_rows(n, D1)
    labels = [f"new{i}".encode() for i in range(n)]
    labels[bad_at] = b"\xff\xfe not utf-8"
    return table.set_column(2, "label", pa.array(labels, pa.binary()).view(pa.string()))


@pytest.mark.usefixtures("small_chunks")
def test_a_failed_bulk_insert_leaves_the_previous_partition(warehouse: Warehouse) -> None:
    warehouse.create_tables([WIDE])
    previous = wide_rows(40, D1)
    other_day = wide_rows(5, D2, first_id=1000).slice(2)
    warehouse.replace_partitions(
        [
            PartitionWrite(WIDE, D1, D2, previous),
            PartitionWrite(WIDE, D2, D2 + timedelta(days=1), other_day),
        ]
    )
    before = warehouse.read_table(WIDE)
    with pytest.raises(Exception, match=r"(?i)unicode|utf"):
        # The bad row is in a late chunk: earlier chunks were already sent.
        warehouse.replace_partitions([PartitionWrite(WIDE, D1, D2, _invalid_utf8_rows(300, 250))])
    assert warehouse.read_table(WIDE).equals(before)
    # The warehouse is usable after the failure.
    warehouse.replace_partitions([PartitionWrite(WIDE, D1, D2, previous.slice(0, 3))])
    assert warehouse.count("wide") == 3 + 3


@pytest.mark.postgres
@pytest.mark.usefixtures("small_chunks")
def test_an_error_while_streaming_copy_rolls_back(
    pg_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The encoder fails after some chunks were queued to the writer thread: no hang, no rows."""
    warehouse = pg_warehouse
    warehouse.create_tables([WIDE])
    previous = wide_rows(40, D1)
    warehouse.replace_partitions([PartitionWrite(WIDE, D1, D2, previous)])
    before = warehouse.read_table(WIDE)
    encode = pg_copy.binary_rows
    calls = []

    def failing(rows: pa.Table) -> pa.Buffer:
        calls.append(rows.num_rows)
        if len(calls) == 4:
            raise RuntimeError("injected failure while streaming")
        return encode(rows)

    monkeypatch.setattr(pg_copy, "binary_rows", failing)
    with pytest.raises(RuntimeError, match="injected"):
        warehouse.replace_partitions([PartitionWrite(WIDE, D1, D2, wide_rows(300, D1))])
    assert len(calls) == 4
    assert warehouse.read_table(WIDE).equals(before)


def _indexes(wh: Warehouse) -> dict[str, str]:
    sql = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :s AND tablename = 'wide'"
    got = wh.query(sql, {"s": wh.schema})
    return dict(zip(got["indexname"].to_pylist(), got["indexdef"].to_pylist(), strict=True))


@pytest.mark.postgres
def test_partition_index_is_a_btree_created_once(pg_warehouse: Warehouse) -> None:
    warehouse = pg_warehouse
    warehouse.create_tables([WIDE])
    with warehouse.begin() as conn:
        warehouse.insert_rows(conn, WIDE, wide_rows(20, D1))
    indexes = _indexes(warehouse)
    assert list(indexes) == ["wide_partition_idx"]
    assert "USING btree (partition_date)" in indexes["wide_partition_idx"]
    warehouse.create_tables([WIDE])  # applied once: nothing to do
    warehouse.create_view("v", "SELECT 1 AS one")  # the DDL transaction left no lock behind
    assert list(_indexes(warehouse)) == ["wide_partition_idx"]
    warehouse.replace_partitions(
        [PartitionWrite(WIDE, D2, D2 + timedelta(days=1), wide_rows(30, D2))]
    )
    with warehouse.begin() as conn:
        counts = conn.exec_driver_sql(
            f"SELECT partition_date, count(*) FROM {warehouse.qualified('wide')} "
            "WHERE partition_date >= '2024-01-01' AND partition_date < '2024-01-03' "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert counts == [(D1, 20), (D2, 30)]
