"""Configuration mistakes fail at once, naming the setting; transient errors say what they wait for.

Fast: settings and the classifier on real drivers (the local PostgreSQL, a closed port, DuckDB
files), one-asset Dagster runs, and the command line up to its checks.
"""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from outcome_pipeline.cli.main import main
from outcome_pipeline.cli.run import check_range, failure_paragraph, log_file, preflight
from outcome_pipeline.defs.automation.retries import WAITING, warehouse_retry_policy
from outcome_pipeline.defs.partitions import daily_partitions
from outcome_pipeline.defs.resources import WarehouseResource
from outcome_pipeline.errors import ConfigError, permanent_problem, redact_url
from outcome_pipeline.settings import Settings


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OUTCOME_WAREHOUSE_SCHEMA", "x;drop"),
        ("OUTCOME_WAREHOUSE_URL", "not a url"),
        ("OUTCOME_WAREHOUSE_URL", "mysql://u@h/db"),
        ("OUTCOME_WAREHOUSE_URL", "postgresql://u:pw@host:port/db"),
        ("OUTCOME_TIMEZONE", "Mars/Olympus"),
        ("OUTCOME_START_DATE", "2024-02-30"),
        ("OUTCOME_COMPUTE_MEMORY_LIMIT", "lots"),
        ("OUTCOME_RETRY_MAX", "three"),
        ("OUTCOME_RETRY_DELAY_SECONDS", "-1"),
        ("OUTCOME_MAX_QUARANTINE_SHARE", "5%"),
        ("OUTCOME_RESTATE_HORIZON_DAYS", "x"),
        ("OUTCOME_FRESHNESS_DEADLINE_CRON", "at six"),
        ("OUTCOME_BACKFILL_DAYS_PER_RUN", "0"),
        ("OUTCOME_CHUNK_DAYS", "0"),
        ("OUTCOME_CHUNK_ROWS", "12M"),
    ],
)
def test_a_malformed_setting_is_a_config_error_naming_it(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env({name: value})
    assert len(err.value.problems) == 1
    assert err.value.problems[0].where == name
    assert name in str(err.value)


def test_every_malformed_setting_is_reported_at_once_and_passwords_stay_hidden() -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env(
            {
                "OUTCOME_WAREHOUSE_URL": "postgresql://u:s3cret@host:port/db",
                "OUTCOME_WAREHOUSE_SCHEMA": "Bad-Name",
                "OUTCOME_NIGHTLY_HOUR": "25",
            }
        )
    wheres = [p.where for p in err.value.problems]
    assert wheres == [
        "OUTCOME_WAREHOUSE_URL",
        "OUTCOME_WAREHOUSE_SCHEMA",
        "OUTCOME_NIGHTLY_HOUR / OUTCOME_NIGHTLY_MINUTE",
    ]
    assert "s3cret" not in str(err.value)
    assert redact_url("postgresql://u:s3cret@h/db") == "postgresql://u:***@h/db"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgresql+psycopg://postgres@127.0.0.1:5432/no_such_db_h17", "does not exist"),
        ("postgresql+psycopg://no_such_role_h17@127.0.0.1:5432/test", "does not exist"),
        ("postgresql+psycopg://postgres@no-such-host.invalid:5432/test", "unknown"),
    ],
)
def test_permanent_connection_errors_are_configuration_problems(
    url: str, words: str, pg_url: str
) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with pytest.raises(sa.exc.OperationalError) as err:
        engine.connect()
    problem = permanent_problem(err.value, url)
    assert problem is not None and problem.where == "OUTCOME_WAREHOUSE_URL"
    assert words in problem.what


def test_a_refused_connection_is_not_permanent() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test"
    with pytest.raises(sa.exc.OperationalError) as err:
        sa.create_engine(url, poolclass=sa.pool.NullPool).connect()
    assert permanent_problem(err.value, url) is None


def test_preflight_refuses_a_duckdb_file_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("x")
    settings = Settings.from_env({"OUTCOME_WAREHOUSE_URL": f"duckdb:///{tmp_path}/a_file/w.duckdb"})
    with pytest.raises(ConfigError, match="a_file"):
        preflight(settings)


def _one_asset_run(resource: WarehouseResource, delay: float = 0.05) -> dg.ExecuteInProcessResult:
    @dg.asset(retry_policy=warehouse_retry_policy(2, delay=delay))
    def touches_the_warehouse(warehouse: WarehouseResource) -> None:
        with warehouse.open() as wh, wh.engine.connect():
            pass

    return dg.materialize(
        [touches_the_warehouse], resources={"warehouse": resource}, raise_on_error=False
    )


def test_an_invalid_schema_fails_the_step_at_once_without_retry(tmp_path: Path) -> None:
    result = _one_asset_run(
        WarehouseResource(url=f"duckdb:///{tmp_path}/w.duckdb", schema_name="x;drop")
    )
    assert not result.success
    events = {e.event_type for e in result.all_events}
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY not in events
    paragraph, kind = failure_paragraph(result)
    assert kind == "configuration"
    assert "OUTCOME_WAREHOUSE_SCHEMA" in paragraph and "Traceback" not in paragraph


def test_a_refused_connection_is_retried_saying_what_it_waits_for() -> None:
    port = closed_port()
    result = _one_asset_run(
        WarehouseResource(url=f"postgresql://postgres@127.0.0.1:{port}/test", schema_name="o")
    )
    assert not result.success
    retries = [
        e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY
    ]
    assert len(retries) == 2
    paragraph, kind = failure_paragraph(result)
    assert kind == "transient"
    assert f"Gave up on PostgreSQL at 127.0.0.1:{port}/test after 3 attempts" in paragraph


def test_retry_waits_are_logged_with_attempt_and_next_try(tmp_path: Path) -> None:
    port = closed_port()
    instance = dg.DagsterInstance.ephemeral()

    @dg.asset(retry_policy=warehouse_retry_policy(1, delay=0.05))
    def touches_the_warehouse(warehouse: WarehouseResource) -> None:
        with warehouse.open() as wh, wh.engine.connect():
            pass

    result = dg.materialize(
        [touches_the_warehouse],
        resources={
            "warehouse": WarehouseResource(
                url=f"postgresql://postgres@127.0.0.1:{port}/test", schema_name="o"
            )
        },
        instance=instance,
        raise_on_error=False,
    )
    waits = [
        r.user_message
        for r in instance.all_logs(result.run_id)
        if (r.user_message or "").startswith(WAITING)
    ]
    assert len(waits) == 1
    assert waits[0].startswith(f"{WAITING}PostgreSQL at 127.0.0.1:{port}/test")
    assert "Attempt 1 of 2 failed; next try in" in waits[0]


def test_days_outside_the_partitions_are_refused_before_anything_runs() -> None:
    first = date.fromisoformat(daily_partitions.get_first_partition_key())
    last = date.fromisoformat(daily_partitions.get_last_partition_key())
    with pytest.raises(ConfigError) as err:
        check_range(first - timedelta(days=1), first)
    assert err.value.problems[0].where == "OUTCOME_START_DATE"
    with pytest.raises(ConfigError) as err:
        check_range(last, last + timedelta(days=1))
    assert err.value.problems[0].where == "--end"
    check_range(first, last)


def test_the_cli_refuses_a_bad_schema_with_exit_2_and_no_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("OUTCOME_WAREHOUSE_URL", f"duckdb:///{tmp_path}/w.duckdb")
    monkeypatch.setenv("OUTCOME_WAREHOUSE_SCHEMA", "x;drop")
    assert main(["run", "--start", "2024-01-01", "--end", "2024-01-02"]) == 2
    out = capsys.readouterr()
    assert "OUTCOME_WAREHOUSE_SCHEMA" in out.err and "Traceback" not in out.err + out.out
    assert not (tmp_path / "w.duckdb").exists()


def test_the_cli_refuses_a_start_before_the_start_date(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("OUTCOME_WAREHOUSE_URL", f"duckdb:///{tmp_path}/w.duckdb")
    assert main(["run", "--start", "2023-12-31", "--end", "2024-01-02"]) == 2
    out = capsys.readouterr()
    assert "OUTCOME_START_DATE" in out.err and "Traceback" not in out.err + out.out


def test_log_files_are_new_per_invocation_and_pruned(tmp_path: Path) -> None:
    settings = Settings.from_env({"OUTCOME_LOG_DIR": str(tmp_path / "logs")})
    for i in range(35):
        log_file(settings, datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i)).write_text(
            str(i)
        )
    logs = sorted((tmp_path / "logs").glob("run-*.log"))
    assert len(logs) == 30 and logs[-1].read_text() == "34"
