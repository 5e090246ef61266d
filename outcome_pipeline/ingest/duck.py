"""One in-memory DuckDB database per process for ingest's queries, a cursor per query.

Opening a database costs tens of milliseconds (and its JSON extension is loaded again in
each), paid by every landing file when each query opened its own; a cursor of one shared
database costs well under a millisecond. A cursor is a connection of its own: its temporary
tables (a CSV scan's rejects tables) and registered Arrow tables go with it, so nothing one
file's query leaves behind is seen by the next, and threads each take their own cursor.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

_LOCK = threading.Lock()
# Keyed by process: a forked child must not use the database its parent opened.
_DATABASES: dict[int, duckdb.DuckDBPyConnection] = {}


def _database() -> duckdb.DuckDBPyConnection:
    pid = os.getpid()
    with _LOCK:
        db = _DATABASES.get(pid)
        if db is None:
            db = duckdb.connect()
            # Timestamps without a zone are read as UTC by every query (a mapping's own
            # timezone is applied in its SQL).
            db.execute("SET GLOBAL TimeZone = 'UTC'")
            _DATABASES[pid] = db
        return db.cursor()


# Reading more than this many bytes, a query gets a database of its own, closed with it: the
# shared database keeps what a large scan allocated (about 150 MiB more at the peak of a run
# whose first day lands a 150 MB customers file), where closing hands it back, and one
# connection is nothing next to such a read.
OWN_DATABASE_BYTES = 64 << 20


@contextmanager
def cursor(reads_bytes: int = 0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh connection to the process's database, closed on exit (a database of its
    own past ``OWN_DATABASE_BYTES`` of input, see there)."""
    if reads_bytes > OWN_DATABASE_BYTES:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
    else:
        con = _database()
    try:
        con.execute("SET enable_progress_bar = false")
        yield con
    finally:
        con.close()
