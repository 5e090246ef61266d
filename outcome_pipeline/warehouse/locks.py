"""Who may write which partitions at once: parallel runs of a backfill write side by side.

PostgreSQL: a writer claims the days of the window it replaces, as rows of
``_partition_claims`` (one per table, writer key and day) locked ``FOR UPDATE`` in day order in
its own transaction. Two runs replacing the same day take turns (without it, both would delete
and then both insert: doubled rows under READ COMMITTED); runs on disjoint windows never wait
for each other. Row locks, not advisory locks: a year of days times ten tables would fill
PostgreSQL's shared lock table (``max_locks_per_transaction``), a row lock costs nothing there.

DuckDB: a file admits one writing process, and a second one fails at once ("Could not set lock
on file"). So a writer takes an exclusive lock on ``<warehouse file>.writer.lock`` for the whole
step and waits for it, saying which process holds it, instead of failing into retries.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

CLAIMS_TABLE = "_partition_claims"
# How often a waiting writer retries the lock, and repeats its log line.
_POLL_SECONDS = 0.2
_LOG_EVERY_SECONDS = 30.0


def claims_ddl(qualified: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {qualified} (table_name TEXT NOT NULL, "
        "writer_key TEXT NOT NULL, partition_date DATE NOT NULL, "
        "PRIMARY KEY (table_name, writer_key, partition_date))"
    )


def writer_key(match: tuple[tuple[str, str], ...]) -> str:
    """Writers sharing a table by a filter (load_audit by feed) claim their own rows."""
    return ",".join(f"{name}={value}" for name, value in match)


def claim_window(
    engine: Engine,
    conn: Connection,
    qualified: str,
    table: str,
    match: tuple[tuple[str, str], ...],
    start: date,
    end: date,
) -> None:
    """Lock the days [start, end) of ``table`` for ``conn``'s transaction (PostgreSQL).

    The claim rows are created first in a short transaction of their own, so that a writer
    never waits on another's uncommitted insert; then locked in day order, so that writers of
    overlapping windows queue instead of deadlocking.
    """
    params = {"t": table, "k": writer_key(match), "start": start, "end": end}
    with engine.begin() as setup:
        setup.execute(
            sa.text(
                f"INSERT INTO {qualified} (table_name, writer_key, partition_date) "
                "SELECT :t, :k, d::date FROM generate_series(CAST(:start AS date), "
                "CAST(:end AS date) - 1, interval '1 day') AS d ORDER BY 3 "
                "ON CONFLICT DO NOTHING"
            ),
            params,
        )
    conn.execute(
        sa.text(
            f"SELECT 1 FROM {qualified} WHERE table_name = :t AND writer_key = :k "
            "AND partition_date >= :start AND partition_date < :end "
            "ORDER BY partition_date FOR UPDATE"
        ),
        params,
    )


# -- DuckDB ---------------------------------------------------------------------------------

# (lock file, thread) -> depth: a step that opens the warehouse again inside its own write
# goes on (flock would make it wait for itself); another thread waits like another process.
_held: dict[tuple[Path, int], int] = {}
_held_guard = threading.Lock()


def writer_lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".writer.lock")


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        return "unknown"
    return text or "unknown"


@contextmanager
def duckdb_writer_lock(
    database: Path | None,
    log: Callable[[str], None] = lambda _: None,
    poll_seconds: float = _POLL_SECONDS,
    log_every_seconds: float = _LOG_EVERY_SECONDS,
) -> Iterator[None]:
    """Hold the writer lock of a DuckDB warehouse file (no-op for None: PostgreSQL, memory).

    Waits as long as another process holds it (its step may take minutes), logging "waiting
    for the DuckDB warehouse writer lock held by PID n" at once and then every
    ``log_every_seconds``. The OS releases the lock when its process ends, even on a crash.
    """
    if database is None:
        yield
        return
    path = writer_lock_path(Path(database).resolve())
    key = (path, threading.get_ident())
    with _held_guard:
        if _held.get(key):
            _held[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_guard:
                _held[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        waited_since = None
        next_log = 0.0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                if waited_since is None:
                    waited_since = now
                if now >= next_log:
                    log(
                        f"waiting for the DuckDB warehouse writer lock held by PID "
                        f"{_holder(path)} ({path}; one writer at a time, waited "
                        f"{now - waited_since:.0f} s)"
                    )
                    next_log = now + log_every_seconds
                time.sleep(poll_seconds)
        if waited_since is not None:
            waited = time.monotonic() - waited_since
            log(f"got the DuckDB warehouse writer lock after {waited:.1f} s")
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        with _held_guard:
            _held[key] = 1
        try:
            yield
        finally:
            with _held_guard:
                _held.pop(key, None)
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
