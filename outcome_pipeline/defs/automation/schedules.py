"""The nightly schedule: yesterday's load, then the day whose outcome window it closed.

Default 02:30 in the business timezone (``OUTCOME_NIGHTLY_CRON``, or ``OUTCOME_NIGHTLY_HOUR`` /
``OUTCOME_NIGHTLY_MINUTE``), on by default when the daemon runs (``dagster dev``). A tick
requests ONE run, ``nightly_outcomes`` for yesterday (staging, outcomes, BI), tagged with the
day to restate and the days whose churn windows closed; ``restate_after_load`` recomputes
those days' outcomes when the run succeeds.
Which days a tick targets is decided by :func:`~.planning.nightly_plan` from the tick's
scheduled time only (never the clock), so a tick evaluated late or twice targets the same days,
and the run key makes the second request a no-op.

A tick whose day has not landed yet (no interactions files in its day folder) is skipped
with "not ready: <folder> has no files yet", shown in the schedule's tick history; the next
tick loads that day with its own, as long as it is at most ``CATCH_UP_DAYS`` old.

Missed ticks are not replayed by Dagster (dagster#10335): after an outage, backfill the days
missed from the UI.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

from outcome_pipeline.calendar import business_day
from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.dagster_internals import reverse_cron_string_iterator
from outcome_pipeline.defs.automation.jobs import (
    TRIGGER,
    churn_tags,
    nightly_job,
    request_for,
    then_restate_tags,
)
from outcome_pipeline.defs.automation.planning import (
    DayRange,
    NightlyPlan,
    nightly_plan,
    not_ready,
)
from outcome_pipeline.defs.outcomes.assets import (
    CHURN_FINAL_KEY,
    METRIC_CONFIG,
    PENDING_FINAL_KEY,
    REPEAT_WINDOW_DAYS,
)
from outcome_pipeline.defs.resources import LandingResource
from outcome_pipeline.ingest.mapping import load_sources
from outcome_pipeline.ingest.readiness import DAY_TABLE, day_has_files
from outcome_pipeline.settings import Settings

_settings = Settings.from_env()
NIGHTLY_CRON = _settings.nightly_cron
TIMEZONE = _settings.timezone
START = date.fromisoformat(_settings.start_date)
OUTCOMES_PROBE = dg.AssetKey("daily_outcomes")
STAGED_PROBE = dg.AssetKey(f"stg_{DAY_TABLE}")
# How old a day a tick skipped as not ready may be for a later tick to still load it; older
# gaps are left to a manual backfill (a week of nights without a delivery needs a person).
CATCH_UP_DAYS = REPEAT_WINDOW_DAYS
# The longest nightly restatement range the horizon allows (H + W + 2); churn ranges stay
# within it too.
MAX_RANGE_DAYS = METRIC_CONFIG.max_journey_days + REPEAT_WINDOW_DAYS + 2
# How far back a tick reads the provisional days: OUTCOME_RESTATE_HORIZON_DAYS, but never less
# than the journey horizon allows a day to stay provisional (final by day + 1 + H + W) plus the
# lookback margin: a shorter one would never restate a day whose journeys ran the whole H.
FINAL_LOOKBACK_DAYS = max(
    _settings.restate_horizon_days,
    METRIC_CONFIG.max_journey_days + REPEAT_WINDOW_DAYS + 1 + METRIC_CONFIG.lookback_margin_days,
)
# How far back a tick reads the churn closing days: a day's long churn window closes at most
# ~ long window + H + W after it (its last journey ended within H + 1 days and it became final
# by day + 1 + H + W), plus the lookback margin and a catch-up week for missed nights.
CHURN_LOOKBACK_DAYS = (
    METRIC_CONFIG.churn_long_days
    + METRIC_CONFIG.max_journey_days
    + REPEAT_WINDOW_DAYS
    + METRIC_CONFIG.lookback_margin_days
    + CATCH_UP_DAYS
)


def previous_tick(
    scheduled: datetime, cron: str = NIGHTLY_CRON, timezone: str = TIMEZONE
) -> datetime | None:
    """The tick of ``cron`` before ``scheduled`` (DST-aware, Dagster's own cron iterator)."""
    for tick in reverse_cron_string_iterator(scheduled.timestamp(), cron, timezone):
        if tick.timestamp() < scheduled.timestamp():
            return tick
    return None


def _latest_pending(
    instance: dg.DagsterInstance, first: date, last: date, key: str
) -> dict[str, object]:
    """Days in first..last → their ``pending`` entry under metadata ``key`` in the latest
    ``daily_outcomes`` materialization that computed them (a run that skipped a day records
    nothing for it, so the run before it counts); days with no entry are left out."""
    wanted = {d.isoformat() for d in DayRange(first, last).days} if first <= last else set()
    decided: set[str] = set()
    out: dict[str, object] = {}
    cursor = None
    while wanted - decided:
        found = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=OUTCOMES_PROBE, asset_partitions=sorted(wanted)),
            limit=1000,
            cursor=cursor,
        )
        for record in found.records:
            day = record.partition_key
            if day is None or day in decided:
                continue
            entry = record.asset_materialization.metadata.get(key)
            value = entry.value if entry is not None else None
            computed = value.get("computed") if isinstance(value, dict) else None
            if not computed or not computed[0] <= day <= computed[1]:
                continue  # this run did not compute the day: an older record decides
            decided.add(day)
            pending = value.get("pending", {}).get(day)
            if pending:
                out[day] = pending
        if not found.has_more:
            break
        cursor = found.cursor
    return out


def pending_final_days(instance: dg.DagsterInstance, first: date, last: date) -> dict[date, date]:
    """Provisional days in first..last → when they can become final, as their latest
    ``daily_outcomes`` materialization recorded it."""
    found = _latest_pending(instance, first, last, PENDING_FINAL_KEY)
    return {date.fromisoformat(d): date.fromisoformat(str(f)) for d, f in found.items()}


def pending_churn_days(
    instance: dg.DagsterInstance, first: date, last: date
) -> dict[date, list[date]]:
    """Days in first..last → the business days their churn windows close that were still
    ahead when their latest ``daily_outcomes`` materialization computed them."""
    found = _latest_pending(instance, first, last, CHURN_FINAL_KEY)
    return {
        date.fromisoformat(d): [date.fromisoformat(f) for f in fs]  # type: ignore[union-attr]
        for d, fs in found.items()
    }


def last_loaded_day(instance: dg.DagsterInstance) -> date | None:
    """The latest day whose interactions staging partition is materialized."""
    keys = instance.get_materialized_partitions(STAGED_PROBE)
    return max((date.fromisoformat(k) for k in keys), default=None)


def plan_for_tick(scheduled: datetime, instance: dg.DagsterInstance | None = None) -> NightlyPlan:
    """The tick's plan; with an instance, days kept provisional by long journeys are included,
    and days earlier ticks skipped as not ready are caught up."""
    pending = None
    churn = None
    last_loaded = None
    if instance is not None:
        last_loaded = last_loaded_day(instance)
        yesterday = business_day(scheduled, TIMEZONE) - timedelta(days=1)
        pending = pending_final_days(
            instance,
            max(START, yesterday - timedelta(days=FINAL_LOOKBACK_DAYS)),
            yesterday - timedelta(days=1),
        )
        churn = pending_churn_days(
            instance,
            max(START, yesterday - timedelta(days=CHURN_LOOKBACK_DAYS)),
            yesterday - timedelta(days=1),
        )
    return nightly_plan(
        scheduled,
        previous_tick(scheduled),
        TIMEZONE,
        START,
        window_days=REPEAT_WINDOW_DAYS,
        pending=pending,
        last_loaded=last_loaded,
        catch_up_days=CATCH_UP_DAYS,
        churn_pending=churn,
        churn_gap_days=REPEAT_WINDOW_DAYS,
        max_range_days=MAX_RANGE_DAYS,
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
    context: dg.ScheduleEvaluationContext, landing: LandingResource
) -> dg.RunRequest | dg.SkipReason:
    scheduled = context.scheduled_execution_time
    if scheduled is None:
        raise ValueError("the nightly schedule needs the tick's scheduled time")
    plan = plan_for_tick(scheduled, context.instance)
    if plan.load is None:
        return dg.SkipReason(plan.reason)
    contract = CONTRACTS[DAY_TABLE]
    sources = load_sources(landing.sources_dir, landing.timezone)
    waiting = not_ready(
        plan.load,
        lambda day: day_has_files(landing.path, contract, day, sources),
        lambda day: landing.path / contract.feed / day.isoformat(),
    )
    if waiting:
        return dg.SkipReason(waiting)
    first, last = plan.load.keys
    restate = (
        f", then restate {plan.restate.keys[0]}..{plan.restate.keys[1]}" if plan.restate else ""
    )
    churn = churn_tags(plan.churn)
    if churn:
        restate += f", and (churn windows closed) {next(iter(churn.values()))}"
    context.log.info(f"nightly: load {first}..{last}{restate}")
    return request_for(
        plan.load,
        run_key=f"nightly:{first}:{last}",
        tags={TRIGGER: "nightly", **then_restate_tags(plan.restate), **churn},
    )
