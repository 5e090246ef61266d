"""Sensors: late landing files, and the restatement that follows a load.

``late_landing_files`` (every 5 minutes): finds files that are new, changed or withdrawn in a
day folder already staged (:mod:`.landing_watch`), and requests a restage of those days for
the affected tables, tagged with the outcome days they feed (:func:`.planning.late_plan`; a
CRM file feeds every computed day from its day - W - 1 on, within the horizon).
Its cursor records every file accounted for, so a file triggers once, and a re-delivered
identical file (same bytes) never does. Staging replaces whole days, so a restage never
double counts.

``restate_after_load``: when a nightly or late-file run succeeds, launches
``restate_outcomes`` for the outcome days it was tagged with, so the restatement always sees
the newly staged data, and one more ``restate_outcomes`` run per range of days whose churn
windows closed with that data (tagged ``outcome/restate_churn``). They queue behind each other
(one warehouse writer at a time), in any order: each sees the same staged data.
"""

from __future__ import annotations

import hashlib
from datetime import date

import dagster as dg

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.defs.automation.jobs import (
    PARENT_RUN,
    RESTATE_CHURN,
    TRIGGER,
    churn_ranges_from_tags,
    late_files_job,
    nightly_job,
    request_for,
    restate_days_from_tags,
    restate_job,
    then_restate_tags,
)
from outcome_pipeline.defs.automation.landing_watch import (
    LandingCursor,
    find_late_files,
    scan_landing,
)
from outcome_pipeline.defs.automation.planning import late_plan
from outcome_pipeline.defs.outcomes.assets import REPEAT_WINDOW_DAYS
from outcome_pipeline.defs.resources import LandingResource
from outcome_pipeline.settings import Settings
from outcome_pipeline.warehouse.tables import STAGING_TABLES

_settings = Settings.from_env()
START = date.fromisoformat(_settings.start_date)
_IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
# Days watched back from the newest day folder, and how far forward a late CRM file restates.
HORIZON_DAYS = _settings.late_file_horizon_days
# The table whose materialized partitions say up to which day outcomes have been computed.
OUTCOMES_PROBE = dg.AssetKey("daily_outcomes")


def staging_loaded_at_ns(instance: dg.DagsterInstance, table: str, day: date) -> int | None:
    """When the run that last staged ``table`` for ``day`` started (epoch ns), or None.

    The run's start, not the materialization time: the step lists the day's files when it
    starts, so only a file that arrived before the run began is certainly in the load.
    """
    key = dg.AssetKey(STAGING_TABLES[table].name)
    found = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day.isoformat()]), limit=1
    ).records
    if not found:
        return None
    record = found[0]
    run = instance.get_run_record_by_id(record.run_id)
    started = run.start_time if run is not None and run.start_time else record.timestamp
    return int(started * 1e9)


def last_computed_day(instance: dg.DagsterInstance) -> date | None:
    keys = instance.get_materialized_partitions(OUTCOMES_PROBE)
    return max((date.fromisoformat(k) for k in keys), default=None)


def late_chain_busy(instance: dg.DagsterInstance) -> str | None:
    """Why a new late-file chain must wait (one at a time: two chains would rewrite
    overlapping outcome days concurrently), or None."""
    running = instance.get_run_records(
        dg.RunsFilter(tags={TRIGGER: "late_files"}, statuses=_IN_PROGRESS),
        limit=1,
    )
    if running:
        return f"late-file run {running[0].dagster_run.run_id} is still in progress"
    last = instance.get_run_records(
        dg.RunsFilter(job_name=late_files_job.name, tags={TRIGGER: "late_files"}), limit=1
    )
    if last and last[0].dagster_run.status == dg.DagsterRunStatus.SUCCESS:
        parent = last[0].dagster_run
        if restate_days_from_tags(parent.tags) is not None and not instance.get_run_records(
            dg.RunsFilter(tags={PARENT_RUN: parent.run_id}), limit=1
        ):
            return f"the restatement after {parent.run_id} has not been launched yet"
    return None


@dg.sensor(
    name="late_landing_files",
    job=late_files_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Restage days whose landing files arrived or changed after they were "
    "loaded, then restate the outcome days they feed.",
)
def late_landing_files(
    context: dg.SensorEvaluationContext, landing: LandingResource
) -> dg.SensorResult | dg.SkipReason:
    instance = context.instance
    busy = late_chain_busy(instance)
    if busy:
        return dg.SkipReason(f"waiting: {busy}")  # cursor not advanced: files seen next time
    observed = scan_landing(landing.path, CONTRACTS.values(), HORIZON_DAYS)
    found = find_late_files(
        LandingCursor.decode(context.cursor),
        observed,
        lambda table, day: staging_loaded_at_ns(instance, table, day),
    )
    plan = late_plan(
        found.table_days, REPEAT_WINDOW_DAYS, START, last_computed_day(instance), HORIZON_DAYS
    )
    cursor = found.cursor.encode()
    if plan is None:
        return dg.SensorResult(
            skip_reason=f"no late files ({found.pending} pending)", cursor=cursor
        )
    for table, day, path, why in found.late:
        context.log.info(f"late file ({why}): {path} -> restage {table} {day}")
    first, last = plan.staging.keys
    request = request_for(
        plan.staging,
        run_key=f"late:{first}:{last}:{hashlib.sha256(cursor.encode()).hexdigest()[:12]}",
        tags={TRIGGER: "late_files", **then_restate_tags(plan.outcomes)},
        asset_selection=[dg.AssetKey(STAGING_TABLES[t].name) for t in plan.tables],
    )
    return dg.SensorResult(run_requests=[request], cursor=cursor)


@dg.run_status_sensor(
    name="restate_after_load",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[nightly_job, late_files_job],
    request_job=restate_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a nightly or late-file load succeeds, restate the outcome days it "
    "was tagged with (outcome/restate_start..end, and each range of "
    "outcome/then_restate_churn in its own run).",
)
def restate_after_load(
    context: dg.RunStatusSensorContext,
) -> dg.RunRequest | dg.SensorResult | dg.SkipReason:
    run = context.dagster_run
    days = restate_days_from_tags(run.tags)
    churn = churn_ranges_from_tags(run.tags)
    if days is None and not churn:
        return dg.SkipReason(f"run {run.run_id} asked for no restatement")
    tags = {PARENT_RUN: run.run_id, TRIGGER: run.tags.get(TRIGGER, "manual")}
    requests = [
        request_for(
            r,
            run_key=f"restate-churn:{run.run_id}:{r.keys[0]}:{r.keys[1]}",
            tags={**tags, RESTATE_CHURN: f"{r.keys[0]}..{r.keys[1]}"},
            job_name=restate_job.name,
        )
        for r in churn
    ]
    if days is not None:
        requests.insert(
            0,
            request_for(
                days, run_key=f"restate-after:{run.run_id}", tags=tags, job_name=restate_job.name
            ),
        )
    return requests[0] if len(requests) == 1 else dg.SensorResult(run_requests=requests)
