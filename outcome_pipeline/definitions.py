"""The code location: everything under ``defs/`` (assets, resources, schedules, ...)."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    # Steps of a run share one process: the DuckDB file admits one writer process at a
    # time, and per-step subprocesses would cost seconds each for nothing.
    return dg.Definitions.merge(loaded, dg.Definitions(executor=dg.in_process_executor))
