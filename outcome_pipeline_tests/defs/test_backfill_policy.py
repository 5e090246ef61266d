"""How a UI backfill is cut into runs, and when an outcome run may start."""

from __future__ import annotations

import dagster as dg

from outcome_pipeline.defs.ingest.assets import staging_assets
from outcome_pipeline.defs.outcomes.assets import METRIC_CONFIG, outcome_tables
from outcome_pipeline.settings import DEFAULT_BACKFILL_DAYS_PER_RUN, Settings
from outcome_pipeline.warehouse.tables import STAGING_TABLES


def test_staging_and_outcomes_backfill_in_runs_of_the_configured_days() -> None:
    days = Settings.from_env().backfill_days_per_run
    assert Settings.from_env({}).backfill_days_per_run == DEFAULT_BACKFILL_DAYS_PER_RUN == 31
    assert Settings.from_env({"OUTCOME_BACKFILL_DAYS_PER_RUN": "7"}).backfill_days_per_run == 7
    for asset in [*staging_assets, outcome_tables]:
        assert asset.backfill_policy == dg.BackfillPolicy.multi_run(days), asset.key


def test_an_outcome_day_waits_for_the_staged_days_that_can_change_it() -> None:
    """Interactions and surveys from W + margin before the day to 1 + H + W after it (a day is
    final by then): a multi-run backfill starts an outcome run only once they are staged."""
    w, h = METRIC_CONFIG.repeat_window_days, METRIC_CONFIG.max_journey_days
    mappings = {
        dep.asset_key.path[0]: dep.partition_mapping
        for dep in outcome_tables.specs_by_key[dg.AssetKey("daily_outcomes")].deps
    }
    for feed in ("interactions", "survey_responses"):
        mapping = mappings[STAGING_TABLES[feed].name]
        assert isinstance(mapping, dg.TimeWindowPartitionMapping), feed
        assert mapping.start_offset == -(w + METRIC_CONFIG.lookback_margin_days), feed
        assert mapping.end_offset == 1 + h + w, feed
