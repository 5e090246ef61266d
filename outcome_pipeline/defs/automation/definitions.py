"""The automation objects, contributed to the code location as one small Definitions."""

import dagster as dg

from outcome_pipeline.defs.automation.freshness import (
    DAILY_FRESHNESS_CHECKS,
    daily_freshness_sensor,
)
from outcome_pipeline.defs.automation.jobs import late_files_job, nightly_job, restate_job
from outcome_pipeline.defs.automation.schedules import nightly_outcomes_schedule
from outcome_pipeline.defs.automation.sensors import late_landing_files, restate_after_load


@dg.definitions
def automation() -> dg.Definitions:
    return dg.Definitions(
        jobs=[nightly_job, restate_job, late_files_job],
        schedules=[nightly_outcomes_schedule],
        sensors=[late_landing_files, restate_after_load, daily_freshness_sensor],
        asset_checks=DAILY_FRESHNESS_CHECKS,
    )
