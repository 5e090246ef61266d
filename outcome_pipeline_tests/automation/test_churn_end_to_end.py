"""A churn restatement run flips ``is_churn_30d_final`` in the warehouse (real jobs, DuckDB).

Two generated days are loaded; their journeys end with the data (nothing is loaded after),
so the day's 30-day churn window closes 30 days after its last contact ended. The outcome
runs in between carry the ``outcome/as_of`` tag in place of the month of nights that would
have loaded nothing for these customers.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from outcome_pipeline.defs.automation.jobs import RANGE_END, RANGE_START, RESTATE_CHURN, churn_tags
from outcome_pipeline.defs.automation.schedules import pending_churn_days, plan_for_tick
from outcome_pipeline.defs.automation.sensors import restate_after_load
from outcome_pipeline.defs.outcomes.assets import AS_OF_TAG
from outcome_pipeline_tests.automation.pipeline import TZ, Pipeline, generate_days

pytestmark = pytest.mark.slow
DAY = date(2024, 1, 1)


def churn_final(p: Pipeline, day: date) -> set[bool]:
    wh = p.warehouse()
    try:
        rows = wh.query(
            f"SELECT DISTINCT is_churn_30d_final AS f FROM {wh.qualified('daily_outcomes')} "
            "WHERE partition_date = :d",
            {"d": day},
        ).to_pylist()
    finally:
        wh.dispose()
    return {r["f"] for r in rows}


def outcomes_at(p: Pipeline, as_of: date) -> None:
    result = p.run(
        "restate_outcomes",
        tags={
            RANGE_START: str(DAY),
            RANGE_END: str(DAY + timedelta(days=1)),
            AS_OF_TAG: str(as_of),
        },
    )
    assert result.success


def test_a_churn_restatement_run_flips_churn_30d_is_final(tmp_path) -> None:
    generate_days(tmp_path / "landing", DAY, 2)
    p = Pipeline(
        landing=tmp_path / "landing",
        url=f"duckdb:///{tmp_path}/warehouse.duckdb",
        schema="outcome",
        bi_copy=tmp_path / "warehouse_bi.duckdb",
        instance=dg.DagsterInstance.ephemeral(),
    )
    loaded = p.run("nightly_outcomes", tags={RANGE_START: str(DAY), RANGE_END: "2024-01-02"})
    assert loaded.success
    outcomes_at(p, DAY + timedelta(days=10))  # the nights that made both days final
    assert churn_final(p, DAY) == {False}
    (closes, _) = pending_churn_days(p.instance, DAY, DAY)[DAY]
    assert closes > DAY + timedelta(days=30)  # the last journey ended after the day itself
    outcomes_at(p, closes - timedelta(days=1))  # the night before: still open
    assert churn_final(p, DAY) == {False}

    # The tick after the night `closes` was loaded plans the churn restatement; the nightly
    # run's success chains it (restate_after_load), and its as_of is that night's.
    scheduled = datetime.combine(closes + timedelta(days=1), time(2, 30), ZoneInfo(TZ))
    plan = plan_for_tick(scheduled, p.instance)
    assert plan.churn and plan.churn[0].first == DAY
    nightly = dg.DagsterRun(
        job_name="nightly_outcomes",
        run_id="nightly-1",
        tags=churn_tags(plan.churn),
        status=dg.DagsterRunStatus.SUCCESS,
    )
    event = dg.DagsterEvent(
        event_type_value=dg.DagsterEventType.RUN_SUCCESS.value, job_name="nightly_outcomes"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        context = dg.build_run_status_sensor_context(
            sensor_name="restate_after_load",
            dagster_event=event,
            dagster_instance=p.instance,
            dagster_run=nightly,
        )
    request = restate_after_load(context)
    assert isinstance(request, dg.RunRequest) and RESTATE_CHURN in request.tags
    result = p.run("restate_outcomes", request, tags={AS_OF_TAG: str(closes)})
    assert result.success
    assert churn_final(p, DAY) == {True}
    # What the run recorded: only the 90-day window is still ahead.
    (long_closes,) = pending_churn_days(p.instance, DAY, DAY)[DAY]
    assert long_closes > closes + timedelta(days=59)
