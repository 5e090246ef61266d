"""Writers in parallel runs: disjoint windows side by side on PostgreSQL, one at a time on a
DuckDB file (waiting, with a log line naming the holder, instead of failing).

Real (forked) processes for DuckDB (its file lock is per process); threads with their own
connections for PostgreSQL (its locks are per transaction).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from outcome_pipeline.defs.resources import WarehouseResource
from outcome_pipeline.warehouse import PartitionWrite, Warehouse
from outcome_pipeline.warehouse.locks import duckdb_writer_lock, writer_lock_path
from outcome_pipeline_tests.conftest import _drop_schema
from outcome_pipeline_tests.warehouse.test_warehouse import EVENTS, rows

D = [date(2024, 1, 1) + timedelta(days=i) for i in range(10)]
# Long enough for a blocked writer to show; short enough to keep the file under 30 s.
BLOCKED_S = 1.5


@pytest.fixture
def pg(pg_url: str) -> Iterator[tuple[str, str]]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield pg_url, schema
    finally:
        _drop_schema(pg_url, schema)


def _write_in_thread(url: str, schema: str, write: PartitionWrite) -> threading.Thread:
    """replace_partitions on its own Warehouse (own connections) in a thread; the thread's
    ``done`` attribute records when it finished."""

    def run() -> None:
        wh = Warehouse(url, schema)
        try:
            wh.replace_partitions([write])
            thread.done = time.monotonic()  # type: ignore[attr-defined]
        finally:
            wh.dispose()

    thread = threading.Thread(target=run, daemon=True)
    thread.done = None  # type: ignore[attr-defined]
    thread.start()
    return thread


@pytest.mark.postgres
def test_postgres_writers_of_disjoint_windows_do_not_wait(pg: tuple[str, str]) -> None:
    url, schema = pg
    holder = Warehouse(url, schema)
    holder.create_tables([EVENTS])
    try:
        with holder.begin() as conn:  # a long write of days 0..2, still open
            holder.delete_window(conn, EVENTS, D[0], D[3])
            holder.insert_rows(conn, EVENTS, rows(D[0], ["a"]))
            other = _write_in_thread(
                url, schema, PartitionWrite(EVENTS, D[3], D[6], rows(D[4], ["b"]))
            )
            other.join(BLOCKED_S * 4)
            # Before: LOCK TABLE made every writer of the table wait for this transaction.
            assert other.done is not None, "a writer of days 3..5 waited for one of days 0..2"
        # The same table shared by a filter (load_audit by feed): another feed, same days.
        with holder.begin() as conn:
            holder.delete_window(conn, EVENTS, D[0], D[3], (("feed", "a"),))
            holder.insert_rows(conn, EVENTS, rows(D[0], ["a"]))
            other = _write_in_thread(
                url,
                schema,
                PartitionWrite(EVENTS, D[0], D[3], rows(D[0], ["c"], "b"), (("feed", "b"),)),
            )
            other.join(BLOCKED_S * 4)
            assert other.done is not None, "feed b waited for feed a on the same days"
    finally:
        holder.dispose()
    got = Warehouse(url, schema)
    try:
        assert sorted(got.read_table(EVENTS)["event_id"].to_pylist()) == ["a", "b", "c"]
    finally:
        got.dispose()


@pytest.mark.postgres
def test_postgres_writers_of_overlapping_windows_take_turns(pg: tuple[str, str]) -> None:
    """Replacing day 2 twice at once leaves one writer's rows, never both (doubled)."""
    url, schema = pg
    holder = Warehouse(url, schema)
    holder.create_tables([EVENTS])
    try:
        with holder.begin() as conn:
            holder.delete_window(conn, EVENTS, D[0], D[3])
            holder.insert_rows(conn, EVENTS, rows(D[2], ["first"]))
            other = _write_in_thread(
                url, schema, PartitionWrite(EVENTS, D[2], D[5], rows(D[2], ["second"]))
            )
            other.join(BLOCKED_S)
            assert other.done is None, "an overlapping writer did not wait"
            committed = time.monotonic()
        other.join(20)
        assert other.done is not None and other.done >= committed
        day2 = holder.read_table(EVENTS, "partition_date = :d", {"d": D[2]})
        assert day2["event_id"].to_pylist() == ["second"]
    finally:
        holder.dispose()


# -- DuckDB ---------------------------------------------------------------------------------


def _resource_writer(url: str, schema: str, day_index: int, hold_s: float, log: str) -> None:
    """A staging step of its own run: open the warehouse through the resource, write its day,
    stay a while (the step's other work). Waiting lines go to ``log``."""
    import logging

    handler = logging.FileHandler(log)
    logging.getLogger("dagster").addHandler(handler)
    logging.getLogger("dagster").setLevel(logging.INFO)
    day = D[day_index]
    with WarehouseResource(url=url, schema_name=schema).open() as wh:
        wh.create_tables([EVENTS])
        wh.replace_partitions(
            [PartitionWrite(EVENTS, day, day + timedelta(days=1), rows(day, [f"e{day_index}"]))]
        )
        time.sleep(hold_s)
    handler.flush()


def test_duckdb_writers_in_parallel_processes_take_turns(tmp_path: Path) -> None:
    """Three processes write one DuckDB file at once through the resource: all succeed (before
    the writer lock, the second failed with "Could not set lock on file"), one at a time."""
    url, schema = f"duckdb:///{tmp_path}/warehouse.duckdb", "outcome"
    ctx = multiprocessing.get_context("fork")
    logs = [str(tmp_path / f"writer{i}.log") for i in range(3)]
    procs = [
        ctx.Process(target=_resource_writer, args=(url, schema, i, 1.0, logs[i])) for i in range(3)
    ]
    started = time.monotonic()
    for p in procs:
        p.start()
    for p in procs:
        p.join(25)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    # One at a time: each holds the file >= 1 s.
    assert time.monotonic() - started >= 3.0
    waited = [Path(log).read_text() for log in logs]
    assert any("waiting for the DuckDB warehouse writer lock held by PID" in w for w in waited)
    wh = Warehouse(url, schema)
    try:
        assert sorted(wh.read_table(EVENTS)["event_id"].to_pylist()) == ["e0", "e1", "e2"]
    finally:
        wh.dispose()


def _hold_lock(database: str, ready: str, release: str) -> None:
    with duckdb_writer_lock(Path(database)):
        Path(ready).write_text("1")
        while not Path(release).exists():
            time.sleep(0.05)


def test_duckdb_writer_lock_names_the_holder_and_waits(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    ready, release = tmp_path / "ready", tmp_path / "release"
    holder = multiprocessing.get_context("fork").Process(
        target=_hold_lock, args=(str(database), str(ready), str(release))
    )
    holder.start()
    try:
        deadline = time.monotonic() + 15
        while not ready.exists():
            assert time.monotonic() < deadline and holder.is_alive()
            time.sleep(0.05)
        lines: list[str] = []
        threading.Timer(BLOCKED_S, release.write_text, ("1",)).start()
        started = time.monotonic()
        with duckdb_writer_lock(database, lines.append, poll_seconds=0.05, log_every_seconds=0.5):
            waited = time.monotonic() - started
            assert writer_lock_path(database).read_text() == str(os.getpid())
        assert waited >= BLOCKED_S * 0.9
        assert lines[0].startswith(
            f"waiting for the DuckDB warehouse writer lock held by PID {holder.pid} "
        ), lines
        assert len(lines) >= 3  # repeated while waiting, then "got the ... lock after"
        assert lines[-1].startswith("got the DuckDB warehouse writer lock after")
    finally:
        release.write_text("1")
        holder.join(10)
    # Nested use in one step does not wait for itself; the lock is free afterwards.
    with duckdb_writer_lock(database), duckdb_writer_lock(database):
        pass
    with duckdb_writer_lock(None):  # PostgreSQL, in-memory DuckDB: nothing to hold
        pass


def test_a_waiting_step_says_so_in_the_run_log(tmp_path: Path) -> None:
    """What a user sees in the Dagster UI while another run's step holds the DuckDB file."""
    import dagster as dg

    url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    ready, release = tmp_path / "ready", tmp_path / "release"

    @dg.asset
    def writes(warehouse: WarehouseResource) -> None:
        # The other run lets go a while after this step has started waiting.
        threading.Timer(BLOCKED_S, release.write_text, ("1",)).start()
        with warehouse.open() as wh:
            wh.create_tables([EVENTS])

    holder = multiprocessing.get_context("fork").Process(
        target=_hold_lock, args=(str(tmp_path / "warehouse.duckdb"), str(ready), str(release))
    )
    holder.start()
    try:
        deadline = time.monotonic() + 15
        while not ready.exists():
            assert time.monotonic() < deadline and holder.is_alive()
            time.sleep(0.05)
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize(
            [writes], resources={"warehouse": WarehouseResource(url=url)}, instance=instance
        )
    finally:
        release.write_text("1")
        holder.join(10)
    assert result.success
    messages = [
        e.message for e in instance.all_logs(result.run_id) if e.message and "DuckDB" in e.message
    ]
    assert any(
        m.startswith(f"waiting for the DuckDB warehouse writer lock held by PID {holder.pid} ")
        for m in messages
    ), messages
