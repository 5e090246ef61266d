"""A run under other metric settings is visible: the outcome step
records each day's settings in ``outcome_audit`` with its rows, and the
``metric_settings_consistent`` check warns, naming the days left under the old settings."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from outcome_pipeline.cli.run import check_warnings
from outcome_pipeline.defs.automation.freshness import DAILY_FRESHNESS_CHECKS
from outcome_pipeline.defs.automation.jobs import RANGE_END, RANGE_START, nightly_job, restate_job
from outcome_pipeline.defs.ingest.assets import staging_assets
from outcome_pipeline.defs.outcomes.assets import outcome_tables
from outcome_pipeline.defs.outcomes.checks import METRIC_SETTINGS_CHECK, metric_settings_consistent
from outcome_pipeline_tests.automation.pipeline import Pipeline, generate_days

pytestmark = pytest.mark.slow


def check_of(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == METRIC_SETTINGS_CHECK
    ]
    return evaluation


def test_a_run_under_other_settings_names_the_days_to_restate(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OUTCOME_SERVICE_LEVEL_SECONDS", raising=False)
    generate_days(tmp_path / "landing", date(2024, 1, 1), 3, per_day=40)
    p = Pipeline(
        landing=tmp_path / "landing",
        url=f"duckdb:///{tmp_path}/warehouse.duckdb",
        schema="outcome",
        bi_copy=tmp_path / "bi.duckdb",
        instance=dg.DagsterInstance.ephemeral(),
    )
    defs = dg.Definitions(
        assets=[*staging_assets, outcome_tables],
        # The freshness checks only because the jobs name them (to leave them out).
        asset_checks=[metric_settings_consistent, *DAILY_FRESHNESS_CHECKS],
        jobs=[nightly_job, restate_job],
        resources=p.resources,
        executor=dg.in_process_executor,
    )

    def run(job: str, first: str, last: str) -> dg.ExecuteInProcessResult:
        result = defs.resolve_job_def(job).execute_in_process(
            instance=p.instance, tags={RANGE_START: first, RANGE_END: last}
        )
        assert result.success
        return result

    first = check_of(run("nightly_outcomes", "2024-01-01", "2024-01-03"))
    assert first.passed and first.severity == dg.AssetCheckSeverity.WARN

    # The service level moves to 30 s; only the last day is recomputed.
    monkeypatch.setenv("OUTCOME_SERVICE_LEVEL_SECONDS", "30")
    restated = run("restate_outcomes", "2024-01-03", "2024-01-03")
    mixed = check_of(restated)
    # The CLI prints it under the step (a warning never stops a run).
    assert check_warnings(restated) == [
        "Warning: check metric_settings_consistent of daily_outcomes: restate "
        "2024-01-01..2024-01-02 (2 days): service_level_seconds 20 -> 30"
    ]
    assert not mixed.passed and mixed.severity == dg.AssetCheckSeverity.WARN
    assert mixed.description == (
        "restate 2024-01-01..2024-01-02 (2 days): service_level_seconds 20 -> 30"
    )
    assert mixed.metadata["days_to_restate"].data == ["2024-01-01..2024-01-02"]
    wh = p.warehouse()
    try:
        audit = wh.query(
            f"SELECT partition_date, metric_settings FROM {wh.qualified('outcome_audit')} "
            "ORDER BY 1"
        ).to_pylist()
    finally:
        wh.dispose()
    assert [('"service_level_seconds":30' in r["metric_settings"]) for r in audit] == [
        False,
        False,
        True,
    ]

    # Restating the days it named makes the history consistent again.
    assert check_of(run("restate_outcomes", "2024-01-01", "2024-01-02")).passed
