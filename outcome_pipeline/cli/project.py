"""The project folder the CLI runs in: its `.env`, its Dagster instance, the demo's dates.

The CLI and `dagster dev` must see the same configuration and the same run history, or the UI
contradicts what the CLI just did. `dagster dev` reads `<cwd>/.env` (overriding the shell's
values, Dagster 1.13 `_cli/utils.py::_inject_local_env_file`) and keeps its history in
`$DAGSTER_HOME`; the CLI reads the same `.env` the same way, and without `DAGSTER_HOME` uses
the project's `dagster_home/` (the one the README starts `dagster dev` on).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO

import dagster as dg

from outcome_pipeline.calendar import business_day

PROJECT_HOME = "dagster_home"
ENV_FILE = ".env"


def load_env_file(cwd: Path | None = None) -> dict[str, str]:
    """Apply `<cwd>/.env` to the environment as `dagster dev` does (its values win)."""
    from outcome_pipeline.dagster_internals import get_env_var_dict

    values = get_env_var_dict(str(cwd or Path.cwd()))
    os.environ.update(values)
    return values


def project_home(cwd: Path | None = None) -> Path | None:
    """`<cwd>/dagster_home` when it holds a `dagster.yaml`, else None."""
    home = (cwd or Path.cwd()).resolve() / PROJECT_HOME
    return home if (home / "dagster.yaml").is_file() else None


def open_instance(out: TextIO, ephemeral: bool = False) -> dg.DagsterInstance:
    """The instance the CLI records its runs in, said in one line on ``out``.

    ``DAGSTER_HOME`` when set; else the project's ``dagster_home/`` (and ``DAGSTER_HOME`` is
    set to it for this process, so that run workers agree); an in-memory instance only when
    asked for, or when there is no project instance to share.
    """
    if ephemeral:
        out.write("run history: not kept (--ephemeral-instance)\n")
        return dg.DagsterInstance.ephemeral()
    if not os.environ.get("DAGSTER_HOME"):
        home = project_home()
        if home is None:
            out.write(
                f"run history: not kept (DAGSTER_HOME is unset and there is no "
                f"{PROJECT_HOME}/dagster.yaml here); set DAGSTER_HOME to the folder "
                "`dagster dev` uses to see these runs in the UI\n"
            )
            return dg.DagsterInstance.ephemeral()
        os.environ["DAGSTER_HOME"] = str(home)
        out.write(
            f"run history: {home} (DAGSTER_HOME unset: the project's instance, shown by "
            f"`DAGSTER_HOME=$PWD/{PROJECT_HOME} dagster dev -w workspace.yaml`)\n"
        )
    else:
        out.write(f"run history: {os.environ['DAGSTER_HOME']} (DAGSTER_HOME)\n")
    return dg.DagsterInstance.get()


def demo_days(today: date, days: int, start: date | None) -> tuple[date, date]:
    """The demo's first and last day: ``start`` + ``days`` when given, else the ``days``
    business days ending yesterday (the partition the nightly run and the freshness checks
    look at, so the UI of a fresh demo shows a pipeline that is up to date)."""
    first = start or today - timedelta(days=days)
    return first, first + timedelta(days=days - 1)


def business_today(timezone: str) -> date:
    return business_day(datetime.now(UTC), timezone)


def write_demo_env(values: dict[str, str], cwd: Path | None = None) -> Path:
    """Set ``values`` in `<cwd>/.env`: replace their lines, keep every other line."""
    path = (cwd or Path.cwd()) / ENV_FILE
    kept = []
    if path.exists():
        kept = [
            line
            for line in path.read_text().splitlines()
            if line.split("=", 1)[0].strip().removeprefix("export ").strip() not in values
        ]
    if not kept:
        kept = ["# Read by `dagster dev` and `outcome-pipeline` in this folder (values win)."]
    lines = [*kept, *(f"{k}={v}" for k, v in values.items())]
    path.write_text("\n".join(lines) + "\n")
    return path
