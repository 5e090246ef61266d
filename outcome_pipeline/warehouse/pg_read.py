"""PostgreSQL rows out as Arrow, streamed in batches, never the whole result in Python.

The ADBC PostgreSQL driver runs ``COPY (SELECT ...) TO STDOUT (FORMAT binary)`` and decodes
the rows into Arrow record batches in C++. PostgreSQL sends one CopyData message per row
(protocol docs, "COPY Operations"); read through psycopg each message was a Python object
and a Python call, most of a PostgreSQL outcome run's time. Binary values are also cheaper
for the server to produce than text (timestamps above all), and need no parsing on this
side. A thread pulls the batches while the caller consumes the previous one: the server,
the decoding and the caller's work overlap, with at most ``QUEUED_BATCHES`` batches between
them, so memory stays a few batches whatever the result.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator

import pyarrow as pa
import sqlalchemy as sa

# Bytes per Arrow batch the driver decodes (its hint, ~100k interaction rows): large enough
# that per-batch costs (a DuckDB insert) vanish, small enough to keep memory flat.
BATCH_BYTES = 32 << 20
# Batches read ahead of the consumer: the reader never waits on a quick consumer, and a
# slow one does not let them pile up.
QUEUED_BATCHES = 2

_DONE = object()


class _Stopped(Exception):
    """The consumer went away: the reading thread leaves the query (its connection closes)."""


def libpq_uri(url: str | sa.URL) -> str:
    """The libpq connection URI of a SQLAlchemy PostgreSQL URL: the driver suffix dropped
    (``postgresql+psycopg`` -> ``postgresql``), the password and query options kept."""
    u = sa.make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def read_tables(
    uri: str, sql: str, schema: pa.Schema, batch_bytes: int | None = None
) -> Iterator[pa.Table]:
    """The rows of a trusted SELECT (no bind parameters) as ``schema`` tables of about
    ``batch_bytes`` (default BATCH_BYTES) each, columns by position.

    Read over a connection of its own (``uri``: libpq's form, :func:`libpq_uri`), closed
    when the generator ends (exhausted, closed early or failed). Binary COPY carries
    timestamptz as instants, whatever the session's TimeZone. An empty result yields nothing.
    """
    import adbc_driver_postgresql
    import adbc_driver_postgresql.dbapi as adbc_pg

    hint = {
        adbc_driver_postgresql.StatementOptions.BATCH_SIZE_HINT_BYTES.value: str(
            batch_bytes or BATCH_BYTES
        )
    }

    def produce(put: Callable[[object], None]) -> None:
        with adbc_pg.connect(uri, autocommit=True) as conn, conn.cursor() as cur:
            cur.adbc_statement.set_options(**hint)
            cur.execute(sql)
            for batch in cur.fetch_record_batch():
                if batch.num_rows:
                    put(batch)

    for batch in read_ahead(produce, "pg-read"):
        assert isinstance(batch, pa.RecordBatch)
        yield pa.Table.from_batches([batch]).rename_columns(schema.names).cast(schema)


def read_ahead(produce: Callable[[Callable[[object], None]], None], name: str) -> Iterator[object]:
    """What ``produce(put)`` puts, yielded as it comes: ``produce`` runs in a thread named
    ``name``, at most QUEUED_BATCHES items ahead of the consumer. Its exception is raised in
    the consumer; when the consumer stops, the next ``put`` raises inside ``produce`` (whose
    ``with`` blocks release what it reads from) and the thread is joined."""
    items: queue.Queue[object] = queue.Queue(maxsize=QUEUED_BATCHES)
    stop = threading.Event()

    def put(item: object) -> None:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stopped

    def run() -> None:
        try:
            produce(put)
            put(_DONE)
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the consumer, raised there
            with contextlib.suppress(_Stopped):
                put(exc)

    reader = threading.Thread(target=run, name=name, daemon=True)
    reader.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()
