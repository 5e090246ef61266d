"""Chaos: the real command line under the configuration mistakes people make.

A first good run stages two days in a DuckDB warehouse; then each mistake runs
``outcome-pipeline run`` in a subprocess and the test checks the exit code (2: configuration,
1: a failed run), one readable message naming the setting or file (never a traceback, the
full log in a file whose path is printed), the time a permanent error takes (the old code
retried an invalid schema for ~116 s), and that every warehouse table kept its rows.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from outcome_pipeline_tests.automation.pipeline import generate_days

pytestmark = pytest.mark.slow

DAYS = ["--start", "2024-01-01", "--end", "2024-01-02"]
# A permanent error must not wait for retries; this bounds startup plus the refusal on a
# loaded 2-core machine. The mistakes below run with the default retry delay (10 s), under
# which the old code spent ~116 s retrying an invalid schema.
PERMANENT_SECONDS = 60
DEFAULT_DELAY = {"OUTCOME_RETRY_DELAY_SECONDS": "10"}


@dataclass
class Staged:
    root: Path
    env: dict[str, str]

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    def counts(self) -> dict[str, int]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            names = [
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'outcome' AND table_type = 'BASE TABLE'"
                ).fetchall()
            ]
            return {
                n: con.execute(f'SELECT count(*) FROM outcome."{n}"').fetchone()[0] for n in names
            }
        finally:
            con.close()


@dataclass
class Outcome:
    code: int
    output: str
    seconds: float


def cli(env: dict[str, str], *args: str, prefix: tuple[str, ...] = ()) -> Outcome:
    t0 = time.perf_counter()
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "outcome_pipeline.cli.main", *args],
        env=env,
        # Away from the checkout: relative defaults (data/...) must not touch the repository.
        cwd=Path(env["OUTCOME_LOG_DIR"]).parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return Outcome(done.returncode, done.stdout + done.stderr, time.perf_counter() - t0)


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Staged]:
    root = tmp_path_factory.mktemp("chaos_config")
    generate_days(root / "landing", date(2024, 1, 1), 2, per_day=120)
    env = {
        **os.environ,
        "OUTCOME_LANDING_DIR": str(root / "landing"),
        "OUTCOME_WAREHOUSE_URL": f"duckdb:///{root}/warehouse.duckdb",
        "OUTCOME_WAREHOUSE_SCHEMA": "outcome",
        "OUTCOME_DATA_DOCS_DIR": str(root / "docs"),
        "OUTCOME_LOG_DIR": str(root / "logs"),
        "OUTCOME_RETRY_DELAY_SECONDS": "0.2",
    }
    env.pop("DAGSTER_HOME", None)
    first = cli(env, "run", *DAYS)
    assert first.code == 0, first.output
    yield Staged(root, env)


def assert_readable(outcome: Outcome, *words: str) -> None:
    assert "Traceback" not in outcome.output, outcome.output
    assert "Stack Trace" not in outcome.output, outcome.output
    for word in words:
        assert word in outcome.output, outcome.output


def test_bad_schema_is_refused_at_once(staged: Staged) -> None:
    before = staged.counts()
    out = cli({**staged.env, **DEFAULT_DELAY, "OUTCOME_WAREHOUSE_SCHEMA": "x;drop"}, "run", *DAYS)
    assert out.code == 2
    assert_readable(out, "OUTCOME_WAREHOUSE_SCHEMA", "'x;drop'")
    assert out.seconds < PERMANENT_SECONDS
    assert staged.counts() == before


def test_bad_url_is_refused_at_once(staged: Staged) -> None:
    before = staged.counts()
    for url in ("postgres ql://nowhere", "oracle://u:secret@h/db"):
        out = cli({**staged.env, **DEFAULT_DELAY, "OUTCOME_WAREHOUSE_URL": url}, "run", *DAYS)
        assert out.code == 2
        assert_readable(out, "OUTCOME_WAREHOUSE_URL")
        assert "secret" not in out.output
        assert out.seconds < PERMANENT_SECONDS
    assert staged.counts() == before


def test_start_before_the_start_date_is_refused_before_anything_runs(staged: Staged) -> None:
    before = staged.counts()
    out = cli(
        {**staged.env, **DEFAULT_DELAY}, "run", "--start", "2023-12-30", "--end", "2024-01-02"
    )
    assert out.code == 2
    assert_readable(out, "OUTCOME_START_DATE", "2024-01-01")
    assert out.seconds < PERMANENT_SECONDS
    assert staged.counts() == before


def test_unreachable_postgres_is_retried_visibly_then_explained(staged: Staged) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    before = staged.counts()
    out = cli(
        {**staged.env, "OUTCOME_WAREHOUSE_URL": f"postgresql://postgres@127.0.0.1:{port}/test"},
        "run",
        *DAYS,
    )
    assert out.code == 1
    assert_readable(
        out,
        f"Waiting for PostgreSQL at 127.0.0.1:{port}/test",
        "Attempt 1 of 4 failed; next try in",
        "Attempt 3 of 4 failed",
        "Gave up on PostgreSQL",
        "Full log: ",
    )
    log = Path(out.output.split("Full log: ")[1].split()[0])
    assert "Traceback" in log.read_text() or "Stack Trace" in log.read_text()
    assert staged.counts() == before


def test_locked_duckdb_file_is_retried_visibly_then_explained(staged: Staged) -> None:
    before = staged.counts()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " sys.stdin.read()",
            str(staged.warehouse),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        out = cli(staged.env, "run", *DAYS)
    finally:
        holder.communicate("", timeout=30)
    assert out.code == 1
    assert_readable(
        out,
        f"Waiting for the DuckDB file {staged.warehouse}",
        f"held by PID {holder.pid}",
        "Attempt 1 of 4 failed; next try in",
        "Gave up on the DuckDB file",
    )
    assert staged.counts() == before


def _no_dac_override() -> tuple[str, ...]:
    """As root, chmod 000 does not stop reads: drop the capabilities that bypass it."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: chmod 000 would not stop reads")
    return (setpriv, "--bounding-set=-dac_override,-dac_read_search")


def test_unreadable_file_is_refused_naming_the_file_and_changes_nothing(
    staged: Staged, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(staged.root / "landing", landing)
    unreadable = landing / "crm" / "2024-01-02" / "cases.jsonl"
    assert unreadable.exists()
    unreadable.chmod(0)
    before = staged.counts()
    out = cli(
        {**staged.env, "OUTCOME_LANDING_DIR": str(landing)},
        "run",
        *DAYS,
        prefix=_no_dac_override(),
    )
    assert out.code == 1
    assert_readable(out, "crm/2024-01-02/cases.jsonl")
    assert "Nothing was changed" in out.output
    # Refused inside the staging transaction: not even the unreadable file's own table changed.
    assert staged.counts() == before


def test_empty_day_folder_is_refused_and_changes_nothing(staged: Staged, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(staged.root / "landing", landing)
    day = landing / "interactions" / "2024-01-02"
    for f in day.iterdir():
        f.unlink()
    before = staged.counts()
    out = cli({**staged.env, "OUTCOME_LANDING_DIR": str(landing)}, "run", *DAYS)
    assert out.code != 0
    assert_readable(out, "interactions/2024-01-02")
    assert staged.counts() == before
