"""PostgreSQL rows out as Arrow, streamed in chunks: ``COPY (SELECT ...) TO STDOUT (FORMAT csv)``
parsed by Arrow's CSV reader a few MB at a time, never the whole result in Python.

PostgreSQL sends one CopyData message per row (protocol docs, "COPY Operations"), so the
messages are joined into chunks of whole rows and each chunk parses on its own. A thread reads
the COPY while the caller parses and consumes the previous chunk: the server formats rows,
Python collects them and Arrow parses (releasing the GIL) at the same time. At most
``QUEUED_CHUNKS`` chunks wait between them, so memory stays a few chunks whatever the result.

CSV, not ``FORMAT binary``: a binary COPY has variable-length rows whose boundaries are only
found row by row (a Python loop per field), while Arrow parses CSV in C++ on several threads.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv

# Bytes of CSV per parsed chunk (~100k interaction rows): large enough that per-chunk costs
# (a parse, a DuckDB insert) vanish, small enough to keep memory flat.
COPY_OUT_BYTES = 32 << 20
# Chunks read ahead of the consumer (each COPY_OUT_BYTES): the reader never waits on a quick
# consumer, and a slow one does not let the chunks pile up.
QUEUED_CHUNKS = 2

_DONE = object()


class _Stopped(Exception):
    """The consumer went away: the reading thread leaves the COPY (psycopg cancels it)."""


def csv_chunk_table(data: bytes | pa.Buffer, schema: pa.Schema) -> pa.Table:
    """Rows of PostgreSQL CSV (no header, columns in ``schema`` order) as a ``schema`` table."""
    return pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(column_names=schema.names),
        convert_options=pacsv.ConvertOptions(
            column_types=schema,
            true_values=["t", "true"],
            false_values=["f", "false"],
            # PostgreSQL writes NULL as an empty unquoted field and quotes an empty string;
            # only that is NULL (Arrow's default list also has "NULL", "NA", "nan", ...
            # which are values here).
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
        # A text value may hold a newline (quoted by PostgreSQL): Arrow must not cut there.
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
    ).cast(schema)


def copy_out_tables(
    cur: psycopg.Cursor, sql: str, schema: pa.Schema, chunk_bytes: int | None = None
) -> Iterator[pa.Table]:
    """The rows of a trusted SELECT as ``schema`` tables of about ``chunk_bytes`` (default
    COPY_OUT_BYTES) of CSV each.

    ``cur`` is used by a reading thread until the generator ends (exhausted, closed or
    failed); the caller must not use its connection meanwhile. The session's TimeZone must be
    UTC (timestamptz values are read as written). An empty result yields nothing.
    """
    chunk_bytes = chunk_bytes or COPY_OUT_BYTES
    chunks: queue.Queue[object] = queue.Queue(maxsize=QUEUED_CHUNKS)
    stop = threading.Event()

    def put(item: object) -> None:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stopped

    def read() -> None:
        try:
            with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
                rows: list[memoryview | bytes] = []
                size = 0
                for row in copy:
                    rows.append(row)
                    size += len(row)
                    if size >= chunk_bytes:
                        put(b"".join(rows))
                        rows, size = [], 0
                if rows:
                    put(b"".join(rows))
            put(_DONE)
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the consumer, raised there
            with contextlib.suppress(_Stopped):
                put(exc)

    reader = threading.Thread(target=read, name="pg-copy-out", daemon=True)
    reader.start()
    try:
        while True:
            item = chunks.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield csv_chunk_table(item, schema)
    finally:
        stop.set()
        reader.join()
