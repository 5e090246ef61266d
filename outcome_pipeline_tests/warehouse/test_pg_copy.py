"""The COPY binary encoder alone (no server): bytes as PostgreSQL's "Binary Format" defines
them, read back by an independent decoder written from that definition."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from outcome_pipeline.warehouse import pg_copy

PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def decode(data: bytes, kinds: list[str]) -> list[tuple]:
    """Rows of COPY binary ``data`` (no header, no trailer) whose fields are ``kinds``."""
    rows, pos = [], 0
    while pos < len(data):
        (count,) = struct.unpack_from(">h", data, pos)
        assert count == len(kinds)
        pos += 2
        row = []
        for kind in kinds:
            (size,) = struct.unpack_from(">i", data, pos)
            pos += 4
            if size == -1:
                row.append(None)
                continue
            field = data[pos : pos + size]
            pos += size
            if kind == "int8":
                row.append(struct.unpack(">q", field)[0])
            elif kind == "int4":
                row.append(struct.unpack(">i", field)[0])
            elif kind == "float8":
                row.append(struct.unpack(">d", field)[0])
            elif kind == "bool":
                row.append(field == b"\x01")
            elif kind == "date":
                row.append(date(2000, 1, 1) + timedelta(days=struct.unpack(">i", field)[0]))
            elif kind == "timestamptz":
                row.append(PG_EPOCH + timedelta(microseconds=struct.unpack(">q", field)[0]))
            else:
                row.append(field.decode("utf-8"))
        rows.append(tuple(row))
    return rows


def test_one_bigint_row_is_its_count_length_and_big_endian_value() -> None:
    encoded = pg_copy.binary_rows(pa.table({"id": pa.array([1], pa.int64())}))
    assert bytes(encoded) == b"\x00\x01" + b"\x00\x00\x00\x08" + b"\x00" * 7 + b"\x01"


def test_header_and_trailer_are_the_documented_signature() -> None:
    assert pg_copy.COPY_HEADER == b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
    assert struct.unpack(">h", pg_copy.COPY_TRAILER) == (-1,)


def test_every_type_and_null_reads_back() -> None:
    table = pa.table(
        {
            "id": pa.array([2**63 - 1, None, -5], pa.int64()),
            "n": pa.array([7, -1, None], pa.int32()),
            "x": pa.array([0.5, None, -1e300], pa.float64()),
            "ok": pa.array([True, False, None], pa.bool_()),
            "day": pa.array([date(1999, 12, 31), None, date(2024, 3, 4)], pa.date32()),
            "at": pa.array(
                [
                    datetime(2024, 3, 31, 1, 30, 0, 123456, UTC),
                    None,
                    datetime(1970, 1, 1, tzinfo=UTC),
                ],
                pa.timestamp("us", "UTC"),
            ),
            "name": pa.array(['é,"\n', None, ""], pa.string()),
            "note": pa.array([None, "x" * 300, "b"], pa.large_string()),
        }
    )
    kinds = ["int8", "int4", "float8", "bool", "date", "timestamptz", "text", "text"]
    assert pg_copy.binary_column_order(table.schema) == table.column_names
    got = decode(bytes(pg_copy.binary_rows(table)), kinds)
    assert got == [tuple(r.values()) for r in table.to_pylist()]


def test_text_columns_go_last_and_must() -> None:
    table = pa.table({"name": ["a"], "id": pa.array([1], pa.int64())})
    assert pg_copy.binary_column_order(table.schema) == ["id", "name"]
    with pytest.raises(ValueError, match="fixed-width columns must come first"):
        pg_copy.binary_rows(table)


def test_chunks_split_by_rows_and_by_text_bytes_and_join_to_the_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    n = 200
    table = pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            "text": pa.array(["y" * (i % 50) for i in range(n)], pa.string()),
        }
    )
    monkeypatch.setattr(pg_copy, "COPY_ROWS", 64)
    monkeypatch.setattr(pg_copy, "COPY_MAX_TEXT_BYTES", 1_000)
    chunks = [bytes(c) for c in pg_copy.binary_chunks(table)]
    assert len(chunks) > n // 64 + 1  # split by rows, and again for their text
    assert b"".join(chunks) == bytes(pg_copy.binary_rows(table))
