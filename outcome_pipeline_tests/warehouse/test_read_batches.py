"""Rows streamed out of the warehouse in chunks (``Warehouse.read_batches``): the same rows
and types as one bulk read, whatever the chunk size; a consumer that stops early or a failing
SELECT leaves no COPY running."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from outcome_pipeline.warehouse import PartitionWrite, Warehouse, pg_read
from outcome_pipeline.warehouse import warehouse as warehouse_module
from outcome_pipeline_tests.warehouse.test_warehouse import EVENTS, rows

D1, D2 = date(2024, 1, 1), date(2024, 1, 2)
# Values CSV must carry exactly: an empty string (not NULL), NULL, separators, quotes,
# newlines (PostgreSQL quotes them; a chunk must not be cut inside), non-ASCII.
TRICKY = ["", None, 'a,"b"\nc', "x\r\ny", "é€😀", "\\N", "NULL"]


def _select(wh: Warehouse, where: str = "") -> str:
    cols = ", ".join(f'"{c}"' for c in EVENTS.column_names)
    return f"SELECT {cols} FROM {wh.qualified('events')} {where} ORDER BY event_id"


@pytest.fixture
def filled(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> pa.Table:
    # Chunks of a few hundred rows: the stream is cut many times, inside no row.
    monkeypatch.setattr(pg_read, "BATCH_BYTES", 16 << 10)
    monkeypatch.setattr(warehouse_module, "_DUCKDB_BATCH_ROWS", 500)
    warehouse.create_tables([EVENTS])
    n = 7 * 1_500
    table = rows(D1, [f"id{i:05d}" for i in range(n)])
    table = table.set_column(1, "feed", pa.array(TRICKY * (n // len(TRICKY)), pa.string()))
    warehouse.replace_partitions([PartitionWrite(EVENTS, D1, D2, table)])
    return table.cast(EVENTS.arrow_schema)


def test_chunks_join_to_the_rows(warehouse: Warehouse, filled: pa.Table) -> None:
    chunks = list(warehouse.read_batches(_select(warehouse), EVENTS.arrow_schema))
    assert len(chunks) > 5
    assert all(c.schema == EVENTS.arrow_schema for c in chunks)
    assert pa.concat_tables(chunks).equals(filled)
    assert warehouse.read_arrow(_select(warehouse), EVENTS.arrow_schema).equals(filled)
    assert (
        list(warehouse.read_batches(_select(warehouse, "WHERE false"), EVENTS.arrow_schema)) == []
    )


def test_a_consumer_may_stop_early(warehouse: Warehouse, filled: pa.Table) -> None:
    for _ in range(3):  # the connection and its COPY are released each time
        stream = warehouse.read_batches(_select(warehouse), EVENTS.arrow_schema)
        assert next(stream).num_rows > 0
        stream.close()
    assert warehouse.count("events") == filled.num_rows


def test_a_failing_select_raises(warehouse: Warehouse, filled: pa.Table) -> None:
    # Fails once the first chunks are out (rows ordered by event_id).
    bad = (
        "SELECT CAST(CASE WHEN event_id >= 'id09000' THEN 'x' ELSE '1' END AS BIGINT) AS n "
        f"FROM {warehouse.qualified('events')} ORDER BY event_id"
    )
    with pytest.raises(Exception, match=r"(?i)conver|invalid input|could not"):
        list(warehouse.read_batches(bad, pa.schema([("n", pa.int64())])))
    assert warehouse.count("events") == filled.num_rows
