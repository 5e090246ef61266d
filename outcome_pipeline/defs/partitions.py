"""The one daily partitions definition every partitioned asset shares (business days)."""

import warnings

import dagster as dg

from outcome_pipeline.settings import Settings

# Single-run backfills are what the range writes are built for; the flag is beta in 1.13 and
# its warning would greet every `dagster dev` user, so it is silenced for this one parameter
# (every partitioned asset imports this module).
warnings.filterwarnings("ignore", message=r".*`backfill_policy`.*", category=dg.BetaWarning)

_settings = Settings.from_env()

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=_settings.start_date,
    timezone=_settings.timezone,
)


def window_days(window: dg.TimeWindow) -> list:
    """Business days of a partition window (one day, or a single-run range)."""
    from datetime import timedelta

    first, last = window.start.date(), window.end.date()
    return [first + timedelta(days=i) for i in range((last - first).days)]
