"""The one daily partitions definition every partitioned asset shares (business days)."""

import warnings
from datetime import date

import dagster as dg

from outcome_pipeline.calendar import days_until
from outcome_pipeline.settings import Settings

# Range writes are what the assets are built for; the flag is beta in 1.13 and
# its warning would greet every `dagster dev` user, so it is silenced for this one parameter
# (every partitioned asset imports this module).
warnings.filterwarnings("ignore", message=r".*`backfill_policy`.*", category=dg.BetaWarning)

_settings = Settings.from_env()

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=_settings.start_date,
    timezone=_settings.timezone,
)

# A backfill becomes runs of at most OUTCOME_BACKFILL_DAYS_PER_RUN days each (staging and
# outcomes): the run queue executes them side by side, and no run holds a whole year at once.
range_backfill_policy = dg.BackfillPolicy.multi_run(
    max_partitions_per_run=_settings.backfill_days_per_run
)
# bi_views stays single-run (one publish after a backfill's chunks), so the jobs that hold it
# and the outcomes mix two policies; Dagster warns and uses the smaller one, which only a
# backfill launched from a job's page would apply. Their scheduled runs are one range each.
warnings.filterwarnings(
    "ignore", message=r"Asset job .* varying BackfillPolicies", category=UserWarning
)


def window_days(window: dg.TimeWindow) -> list[date]:
    """Business days of a partition window (one day, or a single-run range)."""
    return days_until(window.start.date(), window.end.date())
