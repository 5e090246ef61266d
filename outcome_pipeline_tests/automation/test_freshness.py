"""Staleness of the daily tables as the UI shows it: the time-partition freshness checks."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from outcome_pipeline.definitions import defs
from outcome_pipeline.defs.automation.freshness import (
    DAILY_FRESHNESS_CHECKS,
    FRESHNESS_CHECKED,
    daily_freshness_sensor,
)
from outcome_pipeline.settings import Settings
from outcome_pipeline_tests.dagster_internals import freeze_time

TZ = ZoneInfo(Settings.from_env().timezone)


def evaluate(instance: dg.DagsterInstance, now: datetime) -> dict[str, dg.AssetCheckEvaluation]:
    checks_only = dg.define_asset_job(
        "freshness_checks_only", selection=dg.AssetSelection.checks(*DAILY_FRESHNESS_CHECKS)
    )
    job = dg.Definitions.merge(defs(), dg.Definitions(jobs=[checks_only])).resolve_job_def(
        "freshness_checks_only"
    )
    with freeze_time(now):
        result = job.execute_in_process(instance=instance)
    return {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}


def materialized(instance: dg.DagsterInstance, key: dg.AssetKey, day: str) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, partition=day))


def test_yesterday_missing_after_the_deadline_is_stale_then_fresh_once_written() -> None:
    assert daily_freshness_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    with dg.instance_for_test() as instance:
        for key in FRESHNESS_CHECKED:
            materialized(instance, key, "2024-03-08")
        # 07:00 on 03-10, after the 06:00 deadline: 03-09 is due and missing everywhere.
        morning = datetime(2024, 3, 10, 7, 0, tzinfo=TZ)
        stale = evaluate(instance, morning)
        assert set(stale) == {k.to_user_string() for k in FRESHNESS_CHECKED}
        assert not any(e.passed for e in stale.values())
        assert all(e.severity == dg.AssetCheckSeverity.WARN for e in stale.values())
        assert "2024-03-09" in (stale["daily_outcomes"].description or "")
        # Staging landed, outcomes did not (say the outcomes step failed): only they are stale.
        materialized(instance, dg.AssetKey("stg_interactions"), "2024-03-09")
        partial = evaluate(instance, morning)
        assert partial["stg_interactions"].passed and not partial["daily_outcomes"].passed
        for key in FRESHNESS_CHECKED:
            materialized(instance, key, "2024-03-09")
        assert all(e.passed for e in evaluate(instance, morning).values())
        # At 05:00 on 03-11 the 03-10 partition is not due yet: still fresh.
        assert all(
            e.passed for e in evaluate(instance, datetime(2024, 3, 11, 5, tzinfo=TZ)).values()
        )
