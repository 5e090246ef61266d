"""``metric_settings_consistent``: stored outcome days computed under other metric settings.

A run computes its own days under the settings of the moment; it never restates the others
(METRICS "One configuration": nothing restates history silently). This check makes the mix
visible after every outcome run: it compares the settings the run would use now with those
``outcome_audit`` recorded for every stored day (:mod:`outcome_pipeline.outcomes.audit`) and
warns, naming the days to restate and the settings that differ. A warning never blocks: the
figures of each day are right for the settings that made them.
"""

from __future__ import annotations

import dagster as dg

from outcome_pipeline.defs.outcomes.assets import OUTCOME_STEP_TABLES, run_settings
from outcome_pipeline.defs.resources import LandingResource, WarehouseResource
from outcome_pipeline.metric_settings import settings_hash
from outcome_pipeline.outcomes.audit import OUTCOME_AUDIT, drift_message, settings_drift
from outcome_pipeline.warehouse import Warehouse

METRIC_SETTINGS_CHECK = "metric_settings_consistent"
# Every computed day has a spine row in daily_outcomes, whatever happened on it.
_DAYS_TABLE = "daily_outcomes"


def stored_settings(wh: Warehouse) -> list[tuple]:
    """(day, settings hash, settings JSON) for every stored outcome day; None, None when the
    day has no audit row."""
    rows = wh.query(
        f"SELECT d.partition_date, a.settings_hash, a.metric_settings "
        f"FROM (SELECT DISTINCT partition_date FROM {wh.qualified(_DAYS_TABLE)}) AS d "
        f"LEFT JOIN {wh.qualified(OUTCOME_AUDIT.name)} AS a "
        "ON a.partition_date = d.partition_date ORDER BY 1"
    ).to_pylist()
    return [(r["partition_date"], r["settings_hash"], r["metric_settings"]) for r in rows]


def settings_check_result(stored: list[tuple], current: dict[str, object]) -> dg.AssetCheckResult:
    drift = settings_drift(stored, current)
    return dg.AssetCheckResult(
        check_name=METRIC_SETTINGS_CHECK,
        asset_key=_DAYS_TABLE,
        passed=not drift,
        severity=dg.AssetCheckSeverity.WARN,
        description=drift_message(drift),
        metadata={
            "current_settings_hash": settings_hash(current),
            "stored_days": len(stored),
            "days_to_restate": dg.MetadataValue.json([r for g in drift for r in g.ranges]),
            "differing_settings": dg.MetadataValue.json(
                {
                    g.stored_hash or "not recorded": {
                        k: {"stored": was, "current": now}
                        for k, (was, now) in g.differences.items()
                    }
                    for g in drift
                }
            ),
        },
    )


@dg.asset_check(
    asset=_DAYS_TABLE,
    name=METRIC_SETTINGS_CHECK,
    description="Warns when stored outcome days were computed with other metric settings "
    "than the current ones (outcome_audit): names the days to restate and what differs.",
)
def metric_settings_consistent(
    warehouse: WarehouseResource, landing: LandingResource
) -> dg.AssetCheckResult:
    _, current = run_settings(landing.timezone)
    with warehouse.open() as wh:
        wh.create_tables(OUTCOME_STEP_TABLES)
        stored = stored_settings(wh)
    return settings_check_result(stored, current)


@dg.definitions
def outcome_checks() -> dg.Definitions:
    return dg.Definitions(asset_checks=[metric_settings_consistent])
