"""Production-like operations on the local PostgreSQL: instance storage from deploy/dagster.yaml,
a backfill launched through the webserver's GraphQL API, and concurrent partition runs.

What runs here is what runs in production: the instance is loaded from ``deploy/dagster.yaml``
(PostgreSQL run/event/schedule storage, queued runs with concurrency limits), the code location
is served by a gRPC code server, runs are dequeued by the queue daemon's logic and executed in
their own processes by the default run launcher, and the warehouse is PostgreSQL. Only the
daemon loop is driven by the test (one iteration at a time) instead of ``dagster-daemon``.

1. A partition backfill of the outcome tables (and BI views) over 5 days, launched with the
   same GraphQL mutation the UI sends; one run for the outcomes (up to
   OUTCOME_BACKFILL_DAYS_PER_RUN days a run), with the BI views or followed by theirs.
2. The same 5 days as 5 partition runs launched like the UI's "Materialize" (GraphQL
   ``launchPipelineExecution``), dequeued together: at least 3 run at the same time.
3. The tables after 2 equal the tables after 1: day by day = one range.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from outcome_pipeline.defs.tags import RANGE_END, RANGE_START

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DEPLOY_YAML = Path(__file__).resolve().parents[2] / "deploy" / "dagster.yaml"
DAYS = [f"2024-01-0{i}" for i in range(2, 7)]  # 5 days; staging holds 01-01..01-06
OUTCOME_KEYS = [
    "journeys",
    "journey_contacts",
    "daily_outcomes",
    "daily_outputs",
    "daily_agent_output_vs_outcome",
    "customer_outcomes",
    "daily_channel_switches",
    "daily_time_to_resolution",
    "daily_churn_by_outcome",
    "bi_views",
]
LOCATION = "outcome_pipeline"
TIMEOUT = 150


def _admin(pg_url: str) -> str:
    return pg_url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="module")
def ops_env(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A DAGSTER_HOME with deploy/dagster.yaml, a fresh instance database, a warehouse schema,
    generated feeds, and the environment the code server and run workers inherit."""
    try:
        import dagster_postgres  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("dagster-postgres (the prod extra) must be installed under CI")
        pytest.skip("dagster-postgres is not installed (pip install -e '.[prod]')")

    from outcome_pipeline_tests.automation.pipeline import generate_days

    root = tmp_path_factory.mktemp("ops")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_YAML, home / "dagster.yaml")
    db = f"dagster_ops_{uuid.uuid4().hex[:10]}"
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin(pg_url), autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{db}"')
    generate_days(root / "landing", date(2024, 1, 1), 6, per_day=60, seed=9)
    url = psycopg.conninfo.conninfo_to_dict(_admin(pg_url))
    env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": url.get("host", "127.0.0.1"),
        "DAGSTER_PG_PORT": str(url.get("port", 5432)),
        "DAGSTER_PG_DB": db,
        "DAGSTER_PG_USER": url.get("user", "postgres"),
        "DAGSTER_PG_PASSWORD": url.get("password", ""),
        "OUTCOME_WAREHOUSE_URL": pg_url,
        "OUTCOME_WAREHOUSE_SCHEMA": schema,
        "OUTCOME_LANDING_DIR": str(root / "landing"),
        "OUTCOME_DATA_DOCS_DIR": str(root / "docs"),
        # Retries after a transient error (e.g. a deadlock between runs) in 1 s, not 10 s.
        "OUTCOME_RETRY_DELAY_SECONDS": "1",
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        try:
            yield {"home": home, "schema": schema, "pg_url": pg_url, "root": root}
        finally:
            from outcome_pipeline_tests.conftest import _drop_schema

            _drop_schema(pg_url, schema)
            with psycopg.connect(_admin(pg_url), autocommit=True) as con:
                # The code server shuts down in the background: let it close its sessions.
                deadline = time.monotonic() + 20
                while (
                    time.monotonic() < deadline
                    and con.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [db]
                    ).fetchone()[0]
                ):
                    time.sleep(0.2)
                con.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _stage_first(instance: dg.DagsterInstance, env: dict) -> None:
    """Stage 01-01..01-06 in this process (pre-check validation: quicker than GX, and the
    staging layer is not what this test is about); recorded in the PostgreSQL instance."""
    from outcome_pipeline_tests.automation.pipeline import Pipeline

    p = Pipeline(
        landing=env["root"] / "landing",
        url=env["pg_url"],
        schema=env["schema"],
        bi_copy=env["root"] / "unused.duckdb",
        instance=instance,
    )
    result = p.run("restage_late_files", tags={RANGE_START: "2024-01-01", RANGE_END: "2024-01-06"})
    assert result.success


def _outcome_rows(env: dict) -> dict[str, list[dict]]:
    from outcome_pipeline.outcomes import OUTCOME_TABLES
    from outcome_pipeline.warehouse import Warehouse

    wh = Warehouse(env["pg_url"], env["schema"])
    try:
        where = "partition_date >= :a AND partition_date <= :b"
        bounds = {"a": date.fromisoformat(DAYS[0]), "b": date.fromisoformat(DAYS[-1])}
        return {
            name: wh.read_table(t, where, bounds).to_pylist() for name, t in OUTCOME_TABLES.items()
        }
    finally:
        wh.dispose()


def _code_servers() -> list[int]:
    """Pids of the gRPC code servers this process started (Linux /proc)."""
    me, found = os.getpid(), []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == me and "dagster api grpc" in cmd:
            found.append(int(d.name))
    return found


def _stop_code_servers(pids: list[int]) -> None:
    """The code server is told to stop when the workspace closes, but in this harness it has
    been seen to hang in shutdown (futex wait) for minutes: give it 10 s, then end it."""
    deadline = time.monotonic() + 10
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if Path(f"/proc/{p}").exists() and p in _code_servers()]
        time.sleep(0.2)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _drive(wpc, instance, until, log: logging.Logger) -> None:
    """Iterate the backfill and run-queue daemons until ``until()`` holds."""
    from outcome_pipeline_tests.dagster_internals import (
        QueuedRunCoordinatorDaemon,
        execute_backfill_iteration,
    )

    queue = QueuedRunCoordinatorDaemon(interval_seconds=1)
    deadline = time.monotonic() + TIMEOUT
    while not until():
        assert time.monotonic() < deadline, "timed out waiting for the daemon's work"
        list(execute_backfill_iteration(wpc, log))
        list(queue.run_iteration(wpc))
        time.sleep(0.5)


def _launch_backfill(wpc) -> str:
    """What the UI sends for "Materialize" over a partition range of selected assets."""
    from dagster_graphql.client.query import LAUNCH_PARTITION_BACKFILL_MUTATION
    from dagster_graphql.test.utils import execute_dagster_graphql

    launched = execute_dagster_graphql(
        wpc.create_request_context(),
        LAUNCH_PARTITION_BACKFILL_MUTATION,
        {
            "backfillParams": {
                "partitionNames": DAYS,
                "assetSelection": [{"path": [k]} for k in OUTCOME_KEYS],
                "title": "outcomes 5 days",
            }
        },
    )
    assert launched.errors is None, launched.errors
    body = launched.data["launchPartitionBackfill"]
    assert body["__typename"] == "LaunchBackfillSuccess", body
    return body["backfillId"]


def _launch_partition_run(wpc, day: str) -> str:
    """What the UI sends for "Launch run" of ``restate_outcomes`` for one partition.

    Distinct days may run side by side on PostgreSQL, so the writer tag, which deploy limits
    to one run at a time, is given another value here. The job's retry policy absorbs the
    deadlocks concurrent runs can hit in ``Warehouse.create_tables``.
    """
    from dagster_graphql.client.query import LAUNCH_PIPELINE_EXECUTION_MUTATION
    from dagster_graphql.test.utils import execute_dagster_graphql

    res = execute_dagster_graphql(
        wpc.create_request_context(),
        LAUNCH_PIPELINE_EXECUTION_MUTATION,
        {
            "executionParams": {
                "selector": {
                    "repositoryLocationName": LOCATION,
                    "repositoryName": "__repository__",
                    "jobName": "restate_outcomes",
                },
                "executionMetadata": {
                    "tags": [
                        {"key": "dagster/partition", "value": day},
                        {"key": "outcome/warehouse", "value": "distinct-days"},
                    ]
                },
            }
        },
    )
    assert res.errors is None, res.errors
    run = res.data["launchPipelineExecution"]
    assert run["__typename"] == "LaunchRunSuccess", run
    return run["run"]["runId"]


def test_backfill_via_graphql_then_concurrent_partition_runs_on_postgres(ops_env: dict) -> None:
    from outcome_pipeline_tests.dagster_internals import (
        FINISHED_STATUSES,
        BulkActionStatus,
        ModuleTarget,
        create_test_daemon_workspace_context,
    )

    log = logging.getLogger("ops-test")
    t0 = time.monotonic()
    with dg.DagsterInstance.from_config(str(ops_env["home"])) as instance:
        # The deploy file is in effect: PostgreSQL storage, queued runs, the writer limit.
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        queue_config = instance.get_concurrency_config().run_queue_config
        assert queue_config.max_concurrent_runs == 4
        assert {"key": "outcome/warehouse", "value": "writer", "limit": 1} in (
            queue_config.tag_concurrency_limits
        )
        _stage_first(instance, ops_env)

        target = ModuleTarget(
            module_name="outcome_pipeline.definitions",
            attribute="defs",
            working_directory=str(Path(__file__).resolve().parents[2]),
            location_name=LOCATION,
        )
        try:
            with create_test_daemon_workspace_context(target, instance) as wpc:
                # 1. The UI's backfill: select the outcome assets, 5 partitions, launch.
                backfill_id = _launch_backfill(wpc)
                _drive(
                    wpc,
                    instance,
                    lambda: instance.get_backfill(backfill_id).status != BulkActionStatus.REQUESTED,
                    log,
                )
                assert (
                    instance.get_backfill(backfill_id).status == BulkActionStatus.COMPLETED_SUCCESS
                )
                backfill_runs = instance.get_run_records(
                    dg.RunsFilter(tags={"dagster/backfill": backfill_id})
                )
                # 5 days < OUTCOME_BACKFILL_DAYS_PER_RUN: one run for the outcome range, and
                # bi_views (single-run) in it or in a run of its own over the same range.
                assert len(backfill_runs) in (1, 2)
                for record in backfill_runs:
                    tags = record.dagster_run.tags
                    assert (
                        tags[RANGE_START],
                        tags[RANGE_END],
                    ) == (DAYS[0], DAYS[-1])
                by_range = _outcome_rows(ops_env)
                t_backfill = time.monotonic() - t0

                # 2. Five partition runs, one day each: queued, then started together.
                run_ids = [_launch_partition_run(wpc, day) for day in DAYS]

                def all_done() -> bool:
                    return all(
                        instance.get_run_by_id(r).status in FINISHED_STATUSES for r in run_ids
                    )

                _drive(wpc, instance, all_done, log)
        finally:
            _stop_code_servers(_code_servers())
        records = [instance.get_run_record_by_id(r) for r in run_ids]
    for rec in records:
        assert rec.dagster_run.status == dg.DagsterRunStatus.SUCCESS, rec.dagster_run.run_id
        assert rec.dagster_run.tags["outcome/warehouse"] == "distinct-days"
    spans = sorted((rec.start_time, rec.end_time) for rec in records)
    peak = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    assert peak >= 3, f"at most {peak} runs overlapped: {spans}"

    # 3. Day by day = one range.
    assert _outcome_rows(ops_env) == by_range
    assert len(by_range["daily_outcomes"]) > 0 and len(by_range["journeys"]) > 50
    print(f"backfill {t_backfill:.1f}s, total {time.monotonic() - t0:.1f}s, peak {peak} runs")
