"""The harness's Dagster path, the one the UI and the CLI take: the environment a deployed
pipeline reads, an in-process range run of the nightly job, the CLI command a scheduler would
launch, and the library versions of the report. With ``pipeline_stages.py``, the only places
the harness calls into ``outcome_pipeline``."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from benchmarks.pipeline_stages import TIMEZONE


@contextmanager
def pipeline_env(landing: Path, url: str, schema: str, workdir: Path) -> Iterator[dict[str, str]]:
    """The environment a deployed pipeline reads its settings from (restored afterwards)."""
    env = {
        "OUTCOME_LANDING_DIR": str(landing),
        "OUTCOME_WAREHOUSE_URL": url,
        "OUTCOME_WAREHOUSE_SCHEMA": schema,
        "OUTCOME_TIMEZONE": TIMEZONE,
        "OUTCOME_DATA_DOCS_DIR": str(workdir / "data_docs"),
        "OUTCOME_BI_COPY_PATH": str(workdir / "warehouse_bi.duckdb"),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield dict(env)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def dagster_range(start: date, end: date) -> tuple[bool, str, int]:
    """All assets of the code location over [start, end] as ONE in-process run (the UI's
    single-run range backfill), on an ephemeral instance; settings from the environment.

    Returns (success, error, materializations).
    """
    import dagster as dg

    from outcome_pipeline.cli.run import RANGE_END, RANGE_START, _first_error
    from outcome_pipeline.definitions import defs

    # The job the CLI and the nightly schedule run: every asset and its checks except the
    # freshness checks (they judge the wall clock, not the data).
    job = defs().resolve_job_def("nightly_outcomes")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            instance=instance,
            tags={RANGE_START: start.isoformat(), RANGE_END: end.isoformat()},
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
        error = "" if result.success else _first_error(result)
        return result.success, error, len(result.get_asset_materialization_events())


def cold_command(start: date, end: date) -> list[str]:
    """The CLI a scheduler would launch for these days (fresh interpreter, every asset)."""
    exe = Path(sys.executable).with_name("outcome-pipeline")
    args = ["run", "--start", start.isoformat(), "--end", end.isoformat()]
    if exe.exists():
        return [str(exe), *args]
    return [sys.executable, "-m", "outcome_pipeline.cli.main", *args]


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in (
        "outcome_pipeline",
        "dagster",
        "pandas",
        "pyarrow",
        "duckdb",
        "sqlalchemy",
        "great-expectations",
        "psycopg",
        "numpy",
        "matplotlib",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "-"
    return out
