"""Freshness of what BI reads: was it served by morning?

A cron freshness policy (Dagster 1.13's ``FreshnessPolicy``, which supersedes the
``build_last_update_freshness_checks`` helpers): the asset must have been materialized between
``deadline - lower_bound_delta`` and the deadline, 02:00-06:00 business time by default
(``OUTCOME_FRESHNESS_DEADLINE_CRON``), which leaves the 02:30 nightly run three and a half
hours including retries. ``bi_views`` carries it: it is materialized last in every run that
writes the outcome tables, and only when they succeeded, so a stale ``bi_views`` means BI is
showing an old night. The UI shows the state (Fresh / Failed) on the asset and in Asset health;
the daemon evaluates it when the instance enables ``freshness`` (deploy/dagster.yaml).
"""

import warnings
from datetime import timedelta

import dagster as dg

from outcome_pipeline.settings import Settings

_settings = Settings.from_env()
FRESHNESS_DEADLINE_CRON = _settings.freshness_deadline_cron

SERVED_BY_MORNING = dg.FreshnessPolicy.cron(
    deadline_cron=FRESHNESS_DEADLINE_CRON,
    lower_bound_delta=timedelta(hours=4),
    timezone=_settings.timezone,
)

# Staleness per business day, visible on the assets' Checks tab and in Asset health: by the
# deadline, yesterday's partition of the staged interactions and of the daily tables must have
# been materialized (WARN when not; the check names the missing partition and when the asset
# was last updated). Staging is checked too because a UI backfill past the staged data marks
# outcome days as materialized with nothing computed for them (the run's metadata lists them
# as skipped_days). The sensor evaluates the checks after each deadline, without a run.
# Dagster 1.13 marks these factories superseded by FreshnessPolicy, but a policy looks at the
# latest materialization of any partition, not at "yesterday's partition by 06:00"; the
# warning is silenced for these two calls only.
FRESHNESS_CHECKED = [
    dg.AssetKey(k) for k in ("stg_interactions", "daily_outcomes", "daily_outputs")
]
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.SupersessionWarning)
    DAILY_FRESHNESS_CHECKS = dg.build_time_partition_freshness_checks(
        assets=FRESHNESS_CHECKED,
        deadline_cron=FRESHNESS_DEADLINE_CRON,
        timezone=_settings.timezone,
    )
    daily_freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=DAILY_FRESHNESS_CHECKS,
        name="daily_tables_freshness",
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
