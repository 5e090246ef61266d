"""The nightly schedule: yesterday's load, then the day whose outcome window it closed.

Default 02:30 in the business timezone (``OUTCOME_NIGHTLY_CRON``, or ``OUTCOME_NIGHTLY_HOUR`` /
``OUTCOME_NIGHTLY_MINUTE``), on by default when the daemon runs (``dagster dev``). A tick
requests ONE run, ``nightly_outcomes`` for yesterday (staging, outcomes, BI), tagged with the
day to restate; ``restate_after_load`` recomputes that day's outcomes when the run succeeds.
Which days a tick targets is decided by :func:`~.planning.nightly_plan` from the tick's
scheduled time only (never the clock), so a tick evaluated late or twice targets the same days,
and the run key makes the second request a no-op.

Missed ticks are not replayed by Dagster (dagster#10335): after an outage, backfill the days
missed from the UI.
"""

from __future__ import annotations

import os
from datetime import date, datetime

import dagster as dg
from dagster._utils.schedules import reverse_cron_string_iterator  # pinned dagster 1.13.27

from outcome_pipeline.defs.automation.jobs import (
    TRIGGER,
    nightly_job,
    request_for,
    then_restate_tags,
)
from outcome_pipeline.defs.automation.planning import NightlyPlan, nightly_cron, nightly_plan
from outcome_pipeline.defs.outcomes.assets import REPEAT_WINDOW_DAYS
from outcome_pipeline.settings import Settings

_settings = Settings.from_env()
NIGHTLY_CRON = nightly_cron(os.environ)
TIMEZONE = _settings.timezone
START = date.fromisoformat(_settings.start_date)


def previous_tick(
    scheduled: datetime, cron: str = NIGHTLY_CRON, timezone: str = TIMEZONE
) -> datetime | None:
    """The tick of ``cron`` before ``scheduled`` (DST-aware, Dagster's own cron iterator)."""
    for tick in reverse_cron_string_iterator(scheduled.timestamp(), cron, timezone):
        if tick.timestamp() < scheduled.timestamp():
            return tick
    return None


def plan_for_tick(scheduled: datetime) -> NightlyPlan:
    return nightly_plan(
        scheduled, previous_tick(scheduled), TIMEZONE, START, window_days=REPEAT_WINDOW_DAYS
    )


@dg.schedule(
    name="nightly_outcomes_schedule",
    job=nightly_job,
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nightly: stage and compute yesterday, then restate the day whose "
    f"{REPEAT_WINDOW_DAYS}-day outcome window closed with it.",
)
def nightly_outcomes_schedule(
    context: dg.ScheduleEvaluationContext,
) -> dg.RunRequest | dg.SkipReason:
    scheduled = context.scheduled_execution_time
    if scheduled is None:
        raise ValueError("the nightly schedule needs the tick's scheduled time")
    plan = plan_for_tick(scheduled)
    if plan.load is None:
        return dg.SkipReason(plan.reason)
    first, last = plan.load.keys
    restate = (
        f", then restate {plan.restate.keys[0]}..{plan.restate.keys[1]}" if plan.restate else ""
    )
    context.log.info(f"nightly: load {first}..{last}{restate}")
    return request_for(
        plan.load,
        run_key=f"nightly:{first}:{last}",
        tags={TRIGGER: "nightly", **then_restate_tags(plan.restate)},
    )
