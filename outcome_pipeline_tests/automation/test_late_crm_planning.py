"""A late CRM file restates every computed day its versions can change, within the horizon,
and the outcome asset's lineage says so. Pure rules plus the declared
partition mappings; the end-to-end case is ``test_late_crm_end_to_end.py``."""

from __future__ import annotations

from datetime import date

import dagster as dg

from outcome_pipeline.defs.automation.planning import DayRange, late_plan, outcome_days_for_staged
from outcome_pipeline.defs.automation.sensors import HORIZON_DAYS
from outcome_pipeline.defs.outcomes.assets import (
    CRM_LOOKBACK_DAYS,
    FINAL_AFTER_DAYS,
    LOOKBACK_DAYS,
    outcome_tables,
)
from outcome_pipeline.outcomes import HISTORY_INPUTS
from outcome_pipeline.warehouse.tables import STAGING_TABLES

START = date(2024, 1, 1)
D = date(2024, 3, 10)


def test_a_crm_file_restates_from_d_minus_w_minus_1_to_the_last_computed_day() -> None:
    day = DayRange(D, D)
    # An interactions file: D - W - 1 .. D + W + 2 (unchanged).
    assert outcome_days_for_staged(day, 7, START, date(2024, 4, 30)) == DayRange(
        date(2024, 3, 2), date(2024, 3, 19)
    )
    # A CRM file: D - W - 1 .. the last computed day, while that is within the horizon.
    assert outcome_days_for_staged(day, 7, START, date(2024, 3, 31), 35) == DayRange(
        date(2024, 3, 2), date(2024, 3, 31)
    )
    # Capped at D + horizon: older changes are left to a backfill.
    assert outcome_days_for_staged(day, 7, START, date(2024, 6, 30), 35) == DayRange(
        date(2024, 3, 2), date(2024, 4, 14)
    )
    assert outcome_days_for_staged(day, 7, START, None, 35) is None


def test_late_plan_reaches_further_for_crm_files_only() -> None:
    last = date(2024, 4, 2)
    events = late_plan([("interactions", D), ("survey_responses", D)], 7, START, last, 35)
    assert events.outcomes == DayRange(date(2024, 3, 2), date(2024, 3, 19))
    for table in HISTORY_INPUTS:
        p = late_plan([(table, D)], 7, START, last, 35)
        assert p.outcomes == DayRange(date(2024, 3, 2), last), table
    # Mixed: one range covering both spans; the horizon setting caps the CRM reach.
    mixed = late_plan([("interactions", date(2024, 3, 1)), ("customers", D)], 7, START, last, 10)
    assert mixed.staging == DayRange(date(2024, 3, 1), D)
    assert mixed.tables == ("customers", "interactions")
    assert mixed.outcomes == DayRange(date(2024, 2, 22), date(2024, 3, 20))


def test_the_lineage_declares_the_crm_partitions_the_outcomes_read() -> None:
    mappings = {
        key.to_user_string(): outcome_tables.get_partition_mapping(key)
        for key in outcome_tables.dependency_keys
    }
    for table in HISTORY_INPUTS:
        m = mappings[STAGING_TABLES[table].name]
        assert isinstance(m, dg.TimeWindowPartitionMapping), table
        # ... up to the days that can still change the outcome day (as the interactions').
        assert (m.start_offset, m.end_offset) == (-CRM_LOOKBACK_DAYS, FINAL_AFTER_DAYS), table
    # The restatement horizon of the sensor is the lineage's, one setting.
    assert CRM_LOOKBACK_DAYS == HORIZON_DAYS
    for table in ("interactions", "survey_responses"):
        m = mappings[STAGING_TABLES[table].name]
        assert m.start_offset == -LOOKBACK_DAYS, table
