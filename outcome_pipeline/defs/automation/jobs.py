"""The jobs the schedule and sensors launch, and the run tags that chain them.

A run has one partition or one contiguous range for every asset in it, but a night needs
staging for yesterday and outcomes for yesterday *and* the day whose window just closed (not
the days between). So work is chained: the first run (nightly, or a restage of late files)
carries the outcome days to restate in its tags, and when it succeeds the
``restate_after_load`` sensor launches ``restate_outcomes`` for them. Chaining, rather than
two run requests from one tick, guarantees the order the data needs (a restatement must see
the newly staged day) on any instance: two runs requested together start together unless
the run queue is configured to serialise them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import dagster as dg

from outcome_pipeline.defs.automation.freshness import DAILY_FRESHNESS_CHECKS
from outcome_pipeline.defs.automation.planning import DayRange
from outcome_pipeline.defs.automation.retries import WAREHOUSE_RETRY_POLICY
from outcome_pipeline.defs.tags import RANGE_END, RANGE_START
from outcome_pipeline.outcomes import OUTCOME_TABLES

# Outcome days to restate once this run has succeeded (chained by restate_after_load).
THEN_START = "outcome/restate_start"
THEN_END = "outcome/restate_end"
# Ranges of days whose churn windows closed with this run's data ("first..last,first..last"):
# each becomes its own restatement run, tagged RESTATE_CHURN, once this run has succeeded.
THEN_CHURN = "outcome/then_restate_churn"
RESTATE_CHURN = "outcome/restate_churn"  # on a churn restatement run: "first..last"
TRIGGER = "outcome/trigger"  # nightly | late_files: what started the chain
PARENT_RUN = "outcome/parent_run"  # the run a restatement follows
# Every warehouse-writing run carries this tag: deploy/dagster.yaml limits it to one run at a
# time (a DuckDB file has one writer; on PostgreSQL it keeps overlapping partition rewrites apart).
WRITER_TAG = {"outcome/warehouse": "writer"}

OUTCOME_KEYS = [dg.AssetKey(name) for name in OUTCOME_TABLES]
# The freshness checks are evaluated by their sensor after the deadline, not inside the runs.
FRESHNESS_CHECKS = dg.AssetSelection.checks(*DAILY_FRESHNESS_CHECKS)

nightly_job = dg.define_asset_job(
    "nightly_outcomes",
    selection=dg.AssetSelection.all() - FRESHNESS_CHECKS,
    description="Stage the day's feeds, compute the outcome tables, serve them to BI.",
    run_tags=WRITER_TAG,
    op_retry_policy=WAREHOUSE_RETRY_POLICY,
)

restate_job = dg.define_asset_job(
    "restate_outcomes",
    selection=dg.AssetSelection.assets(*OUTCOME_KEYS).downstream() - FRESHNESS_CHECKS,
    description="Recompute the outcome tables of days whose inputs or windows changed.",
    run_tags=WRITER_TAG,
    op_retry_policy=WAREHOUSE_RETRY_POLICY,
)

late_files_job = dg.define_asset_job(
    "restage_late_files",
    selection=dg.AssetSelection.groups("staging") - FRESHNESS_CHECKS,
    description="Restage the days late landing files belong to (the outcomes follow).",
    run_tags=WRITER_TAG,
    op_retry_policy=WAREHOUSE_RETRY_POLICY,
)


def partition_tags(days: DayRange) -> dict[str, str]:
    """Range tags for a run over ``days`` (what a single-run backfill of that range gets)."""
    first, last = days.keys
    return {RANGE_START: first, RANGE_END: last}


def then_restate_tags(days: DayRange | None) -> dict[str, str]:
    if days is None:
        return {}
    first, last = days.keys
    return {THEN_START: first, THEN_END: last}


def churn_tags(ranges: tuple[DayRange, ...]) -> dict[str, str]:
    if not ranges:
        return {}
    return {THEN_CHURN: ",".join(f"{r.keys[0]}..{r.keys[1]}" for r in ranges)}


def churn_ranges_from_tags(tags: Mapping[str, str]) -> tuple[DayRange, ...]:
    """The churn restatement ranges a finished run asked for (``churn_tags``)."""
    out = []
    for part in filter(None, tags.get(THEN_CHURN, "").split(",")):
        first, last = part.split("..")
        out.append(DayRange(date.fromisoformat(first), date.fromisoformat(last)))
    return tuple(out)


def request_for(
    days: DayRange,
    run_key: str,
    tags: Mapping[str, str],
    asset_selection: list[dg.AssetKey] | None = None,
    job_name: str | None = None,
) -> dg.RunRequest:
    """One run over ``days``: ``partition_key`` for one day (clearer in the UI), else range tags.

    ``RunRequest`` has no public partition-range argument in 1.13; the range tags are what a
    single-run backfill launched from the UI carries, and every asset here handles a range.
    """
    if days.first == days.last:
        return dg.RunRequest(
            run_key=run_key,
            partition_key=days.first.isoformat(),
            tags=dict(tags),
            asset_selection=asset_selection,
            job_name=job_name,
        )
    return dg.RunRequest(
        run_key=run_key,
        tags={**tags, **partition_tags(days)},
        asset_selection=asset_selection,
        job_name=job_name,
    )


def restate_days_from_tags(tags: Mapping[str, str]) -> DayRange | None:
    """The outcome days a finished run asked to restate (None when it asked for none)."""
    if THEN_START not in tags or THEN_END not in tags:
        return None
    return DayRange(date.fromisoformat(tags[THEN_START]), date.fromisoformat(tags[THEN_END]))
