"""The automation objects load with the code location, on by default, wired as designed."""

from __future__ import annotations

import dagster as dg

from outcome_pipeline.definitions import defs
from outcome_pipeline.defs.automation.freshness import SERVED_BY_MORNING
from outcome_pipeline.defs.automation.retries import WAREHOUSE_RETRY_POLICY


def test_schedule_sensors_and_freshness_are_in_the_code_location() -> None:
    d = defs()
    repo = d.get_repository_def()
    assert {s.name for s in repo.schedule_defs} == {"nightly_outcomes_schedule"}
    sensors = {s.name: s for s in repo.sensor_defs}
    assert set(sensors) == {"late_landing_files", "restate_after_load", "daily_tables_freshness"}
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in sensors.values())
    bi = d.resolve_asset_graph().get(dg.AssetKey("bi_views"))
    assert bi.freshness_policy == SERVED_BY_MORNING


def test_jobs_select_what_each_step_of_the_chain_writes() -> None:
    d = defs()
    nodes = {
        name: {n.name for n in d.resolve_job_def(name).graph.node_defs}
        for name in ("nightly_outcomes", "restate_outcomes", "restage_late_files")
    }
    assert {"outcome_tables", "bi_views", "stg_interactions"} <= nodes["nightly_outcomes"]
    # The settings check runs after every outcome computation (it warns, never blocks).
    assert nodes["restate_outcomes"] == {
        "outcome_tables",
        "bi_views",
        "outcome_report",
        "daily_outcomes_metric_settings_consistent",
    }
    assert all(n.startswith("stg_") for n in nodes["restage_late_files"])
    for name in nodes:
        job = d.resolve_job_def(name)
        assert job.run_tags.get("outcome/warehouse") == "writer"
        assert job.op_retry_policy == WAREHOUSE_RETRY_POLICY
