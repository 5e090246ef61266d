"""A UI backfill as parallel runs, on the processes of a multi-machine deployment.

What runs here is what ``deploy/`` runs, minus the containers: the user code is served by its
own gRPC server (``dagster api grpc -m outcome_pipeline.definitions``); ``dagster-webserver``
and ``dagster-daemon`` load it through a workspace.yaml that names only its host and port (as
the compose file and the Helm chart do); the instance is ``deploy/dagster.yaml`` (PostgreSQL
storage, queued runs), each run is a process of its own started by the default run launcher,
and the warehouse is PostgreSQL.

A backfill of 12 days with OUTCOME_BACKFILL_DAYS_PER_RUN=4, launched with the UI's mutation,
must complete as several runs of which at least 3 ran at the same time, and never more than a
tag concurrency limit of 3 (added to the deploy file for the test: the outcome stage has more
runs than that queued at once). Its tables must equal day-by-day outcome runs of the same days
over the same staged rows (run in this process into another schema, while the backfill runs).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest
import yaml

from outcome_pipeline.defs.ingest.assets import staging_assets
from outcome_pipeline.defs.outcomes.assets import outcome_tables
from outcome_pipeline.defs.resources import LandingResource, ValidationResource, WarehouseResource
from outcome_pipeline.defs.tags import RANGE_END, RANGE_START
from outcome_pipeline.outcomes import OUTCOME_TABLES
from outcome_pipeline.warehouse.tables import ALL_TABLES
from outcome_pipeline_tests.automation.dagster_ui import (
    LAUNCH_PARTITION_BACKFILL,
    REPO,
    Dagster,
    Process,
    command,
    free_port,
    stop_automation,
    wait_for_backfill,
    wait_until_loaded,
)
from outcome_pipeline_tests.automation.pipeline import generate_days
from outcome_pipeline_tests.conftest import _drop_schema

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DEPLOY_YAML = REPO / "deploy" / "dagster.yaml"
TZ = "Europe/London"
FIRST = date(2024, 1, 1)  # also OUTCOME_START_DATE
DAYS = [FIRST + timedelta(days=i) for i in range(12)]
LAST = DAYS[-1]
DAYS_PER_RUN = 4
LANE = {"key": "outcome/lane", "value": "backfill"}
LANE_LIMIT = 3
PER_DAY = 50
IGNORED_COLUMNS = {"run_id"}

RUNS_QUERY = """
query {
  runsOrError {
    ... on Runs {
      results { runId status startTime endTime tags { key value } assetSelection { path } }
    }
  }
}
"""


def _admin(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


class Deployment(Dagster):
    """Webserver and daemon loading the code from a gRPC server through a workspace file."""

    def start(self, name: str, *args: str) -> Process:
        log_path = self.home / f"{name.replace(' ', '_')}.log"
        log = log_path.open("wb")
        workspace = () if name == "dagster" else ("-w", str(self.home / "workspace.yaml"))
        popen = subprocess.Popen(
            [*command(name), *args, *workspace],
            cwd=self.home,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process = Process(name if name != "dagster" else "code-server", popen, log_path, log)
        self.processes.append(process)
        return process


@pytest.fixture
def deployment(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    try:
        import dagster_postgres  # noqa: F401
    except ImportError:
        pytest.skip("dagster-postgres (the prod extra) is not installed")
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = yaml.safe_load(DEPLOY_YAML.read_text())
    config["concurrency"]["runs"]["tag_concurrency_limits"].append({**LANE, "limit": LANE_LIMIT})
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    grpc_port = free_port()
    (home / "workspace.yaml").write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {
                        "grpc_server": {
                            "host": "127.0.0.1",
                            "port": grpc_port,
                            "location_name": "outcome_pipeline",
                        }
                    }
                ]
            }
        )
    )
    db = f"dagster_par_{uuid.uuid4().hex[:10]}"
    schema, reference = f"t_{uuid.uuid4().hex[:12]}", f"t_{uuid.uuid4().hex[:12]}"
    conninfo = psycopg.conninfo.conninfo_to_dict(_admin(pg_url))
    with psycopg.connect(_admin(pg_url), autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{db}"')
    outcome_env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": str(conninfo.get("host", "127.0.0.1")),
        "DAGSTER_PG_PORT": str(conninfo.get("port", 5432)),
        "DAGSTER_PG_DB": db,
        "DAGSTER_PG_USER": str(conninfo.get("user", "postgres")),
        "DAGSTER_PG_PASSWORD": str(conninfo.get("password", "")),
        "OUTCOME_LANDING_DIR": str(tmp_path / "landing"),
        "OUTCOME_WAREHOUSE_URL": pg_url,
        "OUTCOME_WAREHOUSE_SCHEMA": schema,
        "OUTCOME_TIMEZONE": TZ,
        "OUTCOME_START_DATE": FIRST.isoformat(),
        "OUTCOME_DATA_DOCS_DIR": str(tmp_path / "data_docs"),
        "OUTCOME_BACKFILL_DAYS_PER_RUN": str(DAYS_PER_RUN),
        "OUTCOME_RETRY_DELAY_SECONDS": "1",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTCOME_", "DAGSTER_"))}
    env.update(outcome_env)
    for k in ("OUTCOME_PSEUDONYM_KEY", "OUTCOME_TIMEZONE"):
        monkeypatch.delenv(k, raising=False)
    d = Deployment(home=home, env=env, port=free_port())
    d.grpc_port = grpc_port  # type: ignore[attr-defined]
    d.schema, d.reference, d.pg_url = schema, reference, pg_url  # type: ignore[attr-defined]
    try:
        yield d
    finally:
        d.stop_all()
        if d.processes:
            print(d.logs())
        for s in (schema, reference):
            _drop_schema(pg_url, s)
        with psycopg.connect(_admin(pg_url), autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        shutil.rmtree(tmp_path / "data_docs", ignore_errors=True)


def _wait_for_port(port: int, server: Process, d: Deployment, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            pytest.fail(f"the code server exited\n{d.logs()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    pytest.fail(f"the code server is not listening after {timeout_s} s\n{d.logs()}")


def _run_day_by_day(landing: Path, url: str, schema: str, docs: Path) -> None:
    """The reference: the days staged (one range run: staging range = day by day is
    test_staging_assets' business, and 12 staging runs would double this test's time), then
    the outcomes one day a run, each with as_of the last staged day, as in the backfill."""
    resources = {
        "warehouse": WarehouseResource(url=url, schema_name=schema),
        "landing": LandingResource(root=str(landing), timezone=TZ),
        "validation": ValidationResource(data_docs_dir=str(docs)),
    }
    instance = dg.DagsterInstance.ephemeral()
    assets = [*staging_assets, outcome_tables]
    staged = dg.materialize(
        assets,
        selection=[a.key for a in staging_assets],
        tags={RANGE_START: FIRST.isoformat(), RANGE_END: LAST.isoformat()},
        resources=resources,
        instance=instance,
    )
    assert staged.success
    for day in DAYS:
        result = dg.materialize(
            assets,
            selection=list(outcome_tables.keys),
            partition_key=day.isoformat(),
            resources=resources,
            instance=instance,
        )
        assert result.success, day


def _max_overlap(runs: list[dict]) -> int:
    """Most runs that were executing at one instant."""
    events = sorted(
        [(r["startTime"], 1) for r in runs] + [(r["endTime"], -1) for r in runs],
        key=lambda e: (e[0], e[1]),  # an end before a start at the same instant
    )
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return peak


def _differences(url: str, a: str, b: str, table, where: str) -> tuple[int, int, list, list]:
    cols = ", ".join(f'"{c}"' for c in table.column_names if c not in IGNORED_COLUMNS)

    def rows(schema: str) -> str:
        return f'SELECT {cols} FROM "{schema}"."{table.name}" WHERE {where}'

    with psycopg.connect(_admin(url)) as con:
        count = [con.execute(f"SELECT count(*) FROM ({rows(s)}) r").fetchone()[0] for s in (a, b)]
        only_a = con.execute(f"({rows(a)}) EXCEPT ALL ({rows(b)}) LIMIT 3").fetchall()
        only_b = con.execute(f"({rows(b)}) EXCEPT ALL ({rows(a)}) LIMIT 3").fetchall()
    return count[0], count[1], only_a, only_b


def test_backfill_runs_in_parallel_and_equals_day_by_day_runs(deployment, tmp_path: Path) -> None:
    d = deployment
    code = d.start(
        "dagster",
        "api",
        "grpc",
        "-m",
        "outcome_pipeline.definitions",
        "-a",
        "defs",
        "-d",
        str(REPO),
        "-h",
        "127.0.0.1",
        "-p",
        str(d.grpc_port),
        "--location-name",
        "outcome_pipeline",
    )
    landing = Path(d.env["OUTCOME_LANDING_DIR"])
    generate_days(landing, FIRST, len(DAYS) + 1, per_day=PER_DAY, seed=21)
    # The webserver asks the code server once when it starts (no retry): wait for its port.
    _wait_for_port(d.grpc_port, code, d)
    webserver = d.start("dagster-webserver", "-h", "127.0.0.1", "-p", str(d.port))
    repo = wait_until_loaded(d, webserver)
    assert code.alive()
    stop_automation(d, repo)
    asset_keys = sorted(k.path[0] for k in (*[a.key for a in staging_assets], *outcome_tables.keys))
    launched = d.gql(
        LAUNCH_PARTITION_BACKFILL,
        {
            "backfillParams": {
                "tags": [{"key": "dagster/from_ui", "value": "true"}, LANE],
                "assetSelection": [{"path": [k]} for k in asset_keys],
                "partitionNames": [day.isoformat() for day in DAYS],
                "fromFailure": False,
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    d.start("dagster-daemon", "run")

    _run_day_by_day(landing, d.pg_url, d.reference, tmp_path / "docs_day_by_day")
    started = time.monotonic()
    backfill = wait_for_backfill(d, launched["backfillId"])
    print(f"backfill done {time.monotonic() - started:.0f} s after the day-by-day runs")
    ids = {r["runId"] for r in backfill["runs"]}
    runs = [r for r in d.gql(RUNS_QUERY)["runsOrError"]["results"] if r["runId"] in ids]
    d.stop_all()

    summary = [
        (
            r["status"],
            sorted({k["path"][0] for k in r["assetSelection"]} & {"stg_interactions", "journeys"}),
            {t["key"].rsplit("_", 1)[1]: t["value"] for t in r["tags"] if "range" in t["key"]},
        )
        for r in runs
    ]
    print(f"runs: {summary}; most at once: {_max_overlap(runs)}")
    assert all(r["status"] == "SUCCESS" for r in runs), summary
    # Staging: 12 days in 3 runs of 4; the outcomes, fanned out W + 2 days past the range
    # (days left alone: not staged), in runs of 4 too.
    assert sum(s[1] == ["stg_interactions"] for s in summary) == 3, summary
    assert sum(s[1] == ["journeys"] for s in summary) >= 3, summary
    assert all(
        date.fromisoformat(s[2]["end"]) - date.fromisoformat(s[2]["start"])
        < timedelta(days=DAYS_PER_RUN)
        for s in summary
    ), summary
    assert LANE_LIMIT >= _max_overlap(runs) >= 3, summary

    for table in ALL_TABLES:
        where = "true"
        if table.name in OUTCOME_TABLES:
            where = f"partition_date BETWEEN DATE '{FIRST}' AND DATE '{LAST}'"
        got, want, extra, missing = _differences(d.pg_url, d.schema, d.reference, table, where)
        assert (got, extra, missing) == (want, [], []), (table.name, got, want, extra, missing)
        if table.name in OUTCOME_TABLES:
            assert got > 0, table.name
