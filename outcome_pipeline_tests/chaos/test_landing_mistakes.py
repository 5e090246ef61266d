"""The CLI under landing mistakes: a typo in OUTCOME_LANDING_DIR, a day folder gone, a future range.

Each test runs ``outcome-pipeline run`` as a user would (a subprocess, configured by the
environment) against a copy of a warehouse that already holds three staged and computed days,
and checks the exit code, the message, and that every table and the BI file are unchanged
where the run refused.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.warehouse import Warehouse

pytestmark = pytest.mark.slow
SCHEMA = "outcome"
FIRST, LAST = "2024-01-01", "2024-01-03"


def cli(args: list[str], landing: Path, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_argv(args),
        env=cli_env(landing, data),
        capture_output=True,
        text=True,
        timeout=900,
    )


def cli_argv(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "outcome_pipeline.cli.main", "run", *args]


def cli_env(landing: Path, data: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("OUTCOME_") and k != "DAGSTER_HOME"
    }
    home = data / "dagster_home"
    home.mkdir(exist_ok=True)
    env.update(
        OUTCOME_LANDING_DIR=str(landing),
        OUTCOME_WAREHOUSE_URL=f"duckdb:///{data / 'warehouse.duckdb'}",
        OUTCOME_WAREHOUSE_SCHEMA=SCHEMA,
        OUTCOME_DATA_DOCS_DIR=str(data / "data_docs"),
        OUTCOME_RETRY_DELAY_SECONDS="1",
        DAGSTER_HOME=str(home),
    )
    return env


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(landing, data folder) after a clean run of the three landed days."""
    root = tmp_path_factory.mktemp("clean")
    landing, data = root / "landing", root / "data"
    data.mkdir()
    generate(
        GeneratorConfig(
            out_dir=landing, start=date(2024, 1, 1), days=3, interactions_per_day=300, seed=3
        )
    )
    done = cli(["--start", FIRST, "--end", LAST], landing, data)
    assert done.returncode == 0, done.stdout + done.stderr
    return landing, data


@pytest.fixture
def copy(clean: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the clean landing folder and warehouse + BI files."""
    landing, data = clean
    shutil.copytree(landing, tmp_path / "landing")
    (tmp_path / "data").mkdir()
    for name in ("warehouse.duckdb", "warehouse_bi.duckdb"):
        shutil.copy2(data / name, tmp_path / "data" / name)
    return tmp_path / "landing", tmp_path / "data"


def state(data: Path) -> dict[str, object]:
    """Rows per day of the staged interactions and the outcome tables, the maturity figures,
    and the BI file's bytes."""
    wh = Warehouse(f"duckdb:///{data / 'warehouse.duckdb'}", SCHEMA)
    try:
        out: dict[str, object] = {}
        for table in ("stg_interactions", "journeys", "daily_outcomes", "load_audit"):
            rows = wh.query(
                f"SELECT partition_date AS d, count(*) AS n FROM {wh.qualified(table)} "
                "GROUP BY partition_date ORDER BY partition_date"
            ).to_pylist()
            out[table] = {r["d"].isoformat(): r["n"] for r in rows}
        out["maturity"] = wh.query(
            "SELECT partition_date AS d, sum(CASE WHEN is_final THEN 1 ELSE 0 END) AS final, "
            f"sum(journeys_ended) AS ended FROM {wh.qualified('daily_outcomes')} "
            "GROUP BY partition_date ORDER BY partition_date"
        ).to_pylist()
        out["journeys_final"] = wh.query(
            f"SELECT sum(CASE WHEN is_ended THEN 1 ELSE 0 END) AS n FROM {wh.qualified('journeys')}"
        ).to_pylist()
    finally:
        wh.dispose()
    out["bi_sha256"] = hashlib.sha256((data / "warehouse_bi.duckdb").read_bytes()).hexdigest()
    return out


def test_a_missing_landing_folder_is_refused_and_changes_nothing(copy) -> None:
    landing, data = copy
    before = state(data)
    assert before["stg_interactions"]["2024-01-02"] > 0  # type: ignore[index]
    typo = landing.parent / "landnig"
    done = cli(["--start", "2024-01-02", "--end", LAST], typo, data)
    assert done.returncode != 0
    assert "OUTCOME_LANDING_DIR" in done.stdout and str(typo) in done.stdout
    assert "--allow-empty-days" in done.stdout
    assert state(data) == before


def test_with_the_override_the_days_are_emptied_as_asked(copy) -> None:
    landing, data = copy
    typo = landing.parent / "landnig"
    done = cli(["--start", "2024-01-02", "--end", LAST, "--allow-empty-days"], typo, data)
    assert done.returncode == 0, done.stdout + done.stderr
    after = state(data)
    assert set(after["stg_interactions"]) == {"2024-01-01"}  # type: ignore[arg-type]


def test_a_staged_day_whose_folder_was_deleted_is_refused(copy) -> None:
    landing, data = copy
    before = state(data)
    shutil.rmtree(landing / "interactions" / LAST)
    done = cli(["--start", "2024-01-02", "--end", LAST], landing, data)
    assert done.returncode != 0
    assert str(landing / "interactions" / LAST) in done.stdout
    assert "OUTCOME_LANDING_DIR" in done.stdout
    after = state(data)
    assert after["stg_interactions"] == before["stg_interactions"]
    assert after["journeys"] == before["journeys"]
    assert after["daily_outcomes"] == before["daily_outcomes"]
    assert after["bi_sha256"] == before["bi_sha256"]


def test_a_future_range_is_refused_and_never_moves_as_of(copy) -> None:
    landing, data = copy
    before = state(data)
    # Days after the last finished business day are refused before anything runs.
    future = cli(["--start", "2030-01-01", "--end", "2030-01-02"], landing, data)
    assert future.returncode == 2
    assert "after the last daily partition" in future.stderr
    assert "Traceback" not in future.stdout + future.stderr
    assert state(data) == before
    # Days that are over but never landed: the first staging step refuses them.
    unlanded = ["--start", "2025-06-01", "--end", "2025-06-02"]
    refused = cli(unlanded, landing, data)
    assert refused.returncode != 0
    # The first staging step refuses (cases: its CRM folder, and no interactions either).
    assert f"{landing}/crm/2025-06-01" in refused.stdout
    assert "have not landed yet" in refused.stdout and "OUTCOME_LANDING_DIR" in refused.stdout
    assert state(data)["load_audit"] == before["load_audit"]
    future = unlanded
    # Staged as empty on purpose, the days still say nothing about time having passed.
    forced = cli([*future, "--allow-empty-days"], landing, data)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    rerun = cli(["--start", FIRST, "--end", LAST], landing, data)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    after = state(data)
    assert after["maturity"] == before["maturity"]
    assert after["journeys_final"] == before["journeys_final"]
    assert after["journeys"] == before["journeys"]


def test_a_reader_that_closes_the_pipe_does_not_stop_the_run(copy) -> None:
    """``outcome-pipeline run ... | head``: once the reader has gone, the run goes on to its
    last step (here: the BI file, deleted before, is published again), prints no traceback
    and exits with the run's own code."""
    landing, data = copy
    before = state(data)
    (data / "warehouse_bi.duckdb").unlink()
    run = subprocess.Popen(
        cli_argv(["--start", FIRST, "--end", LAST]),
        env=cli_env(landing, data),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert run.stdout is not None and run.stderr is not None
    run.stdout.close()  # the reader leaves before the first progress line
    stderr = run.stderr.read()
    assert run.wait(timeout=900) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    after = state(data)
    assert {k: v for k, v in after.items() if k != "bi_sha256"} == {
        k: v for k, v in before.items() if k != "bi_sha256"
    }
