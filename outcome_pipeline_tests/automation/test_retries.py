"""Transient warehouse errors: classified, retried with backoff, and harmless.

The end-to-end test holds the DuckDB warehouse file from another process while the nightly
job starts (what a BI tool left open does), lets go two seconds later, and checks that the
retried run leaves exactly the tables of a clean run.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import psycopg
import pytest
import sqlalchemy as sa

from outcome_pipeline.defs.automation.jobs import RANGE_END, RANGE_START
from outcome_pipeline.defs.automation.retries import (
    WAITING,
    gave_up_message,
    transient_reason,
    waiting_message,
    warehouse_errors,
    warehouse_retry_policy,
)
from outcome_pipeline.defs.resources import WarehouseResource
from outcome_pipeline.outcomes import OUTCOME_TABLES
from outcome_pipeline.warehouse import LOAD_AUDIT, Warehouse
from outcome_pipeline.warehouse.tables import QUARANTINE_FILES, QUARANTINE_TABLES, STAGING_TABLES
from outcome_pipeline_tests.automation.pipeline import Pipeline, generate_days

TABLES = [
    STAGING_TABLES["interactions"],
    QUARANTINE_TABLES["interactions"],
    QUARANTINE_FILES,
    LOAD_AUDIT,
    *OUTCOME_TABLES.values(),
]
LOCK = (
    'IO Error: Could not set lock on file "/data/warehouse.duckdb": Conflicting lock is held '
    "in /usr/bin/python3.11 (PID 4242)."
)


def sa_wrapped(orig: Exception) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    ("error", "why"),
    [
        (duckdb.IOException(LOCK), "the DuckDB warehouse file is held by another process"),
        (
            sa_wrapped(duckdb.IOException(LOCK)),
            "the DuckDB warehouse file is held by another process",
        ),
        (
            sa_wrapped(psycopg.errors.SerializationFailure("could not serialize")),
            "PostgreSQL SQLSTATE 40001",
        ),
        (
            sa_wrapped(psycopg.errors.DeadlockDetected("deadlock detected")),
            "PostgreSQL SQLSTATE 40P01",
        ),
        (sa_wrapped(psycopg.errors.AdminShutdown("terminating")), "PostgreSQL SQLSTATE 57P01"),
        (sa_wrapped(psycopg.errors.TooManyConnections("too many")), "PostgreSQL SQLSTATE 53300"),
    ],
)
def test_transient_errors_are_recognised(error: Exception, why: str) -> None:
    assert transient_reason(error) == why


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad value"),
        sa.exc.ProgrammingError("SELECT", {}, psycopg.errors.UndefinedTable("no such table")),
        duckdb.CatalogException("Table with name x does not exist"),
        sa_wrapped(psycopg.errors.InvalidPassword("password authentication failed")),
    ],
)
def test_other_errors_are_not_retried(error: Exception) -> None:
    assert transient_reason(error) is None


def test_a_real_refused_postgres_connection_is_transient() -> None:
    engine = sa.create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/test", poolclass=sa.pool.NullPool
    )
    with pytest.raises(sa.exc.OperationalError) as err:
        engine.connect()
    assert transient_reason(err.value) is not None


def test_warehouse_errors_re_raise_transient_and_stop_permanent() -> None:
    with pytest.raises(duckdb.IOException), warehouse_errors():
        raise duckdb.IOException(LOCK)
    with pytest.raises(dg.Failure) as failure, warehouse_errors():
        raise ValueError("a bug")
    assert failure.value.allow_retries is False
    assert "ValueError: a bug" in failure.value.description
    reason = "the DuckDB warehouse file is held by another process"
    target = "the DuckDB file /data/warehouse.duckdb"
    message = waiting_message(reason, duckdb.IOException(LOCK), target, 1, 4, 9.6)
    assert message.startswith(f"{WAITING}{target}")
    assert "Attempt 1 of 4 failed; next try in 9.6 s" in message
    assert "held by PID 4242" in message and "published BI copy" in message
    assert "after 4 attempts" in gave_up_message(reason, duckdb.IOException(LOCK), target, 4)


class RetryAwareWarehouse(WarehouseResource):
    """The proposed one-line change to ``WarehouseResource.open`` (see the report)."""

    @contextmanager
    def open(self) -> Iterator[Warehouse]:
        with warehouse_errors(), super().open() as wh:
            yield wh


def table_rows(url: str) -> dict[str, list[dict]]:
    wh = Warehouse(url, "outcome")
    try:
        return {
            t.name: [
                {k: v for k, v in r.items() if k != "run_id"} for r in wh.read_table(t).to_pylist()
            ]
            for t in TABLES
        }
    finally:
        wh.dispose()


@pytest.mark.slow
def test_lock_on_first_attempt_then_success_equals_a_clean_run(tmp_path: Path) -> None:
    generate_days(tmp_path / "landing", date(2024, 1, 1), 1, per_day=60)
    # One feed table, the outcomes and BI: enough steps to show the whole run recovers.
    request = dg.RunRequest(
        tags={RANGE_START: "2024-01-01", RANGE_END: "2024-01-01"},
        asset_selection=[dg.AssetKey(k) for k in ("stg_interactions", *OUTCOME_TABLES, "bi_views")],
    )

    def pipeline(name: str) -> Pipeline:
        return Pipeline(
            landing=tmp_path / "landing",
            url=f"duckdb:///{tmp_path}/{name}.duckdb",
            schema="outcome",
            bi_copy=tmp_path / f"{name}_bi.duckdb",
            instance=dg.DagsterInstance.ephemeral(),
            warehouse_resource=RetryAwareWarehouse,
        )

    clean = pipeline("clean")
    assert clean.run("nightly_outcomes", request).success

    retried = pipeline("retried")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(2); c.close()",
            f"{tmp_path}/retried.duckdb",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = retried.run(
            "nightly_outcomes", request, retry_policy=warehouse_retry_policy(5, delay=0.4)
        )
    finally:
        holder.wait(timeout=30)
    assert result.success
    retries = [
        e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY
    ]
    assert retries, "the lock should have failed a first attempt"
    logs = [
        r.user_message
        for r in retried.instance.all_logs(result.run_id)
        if (r.user_message or "").startswith(WAITING)
    ]
    assert logs and "held by another process" in logs[0]
    assert table_rows(retried.url) == table_rows(clean.url)
