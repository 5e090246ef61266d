"""Maturity and reproducibility: restatement, range = day-by-day, live flags, input window."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from outcome_pipeline.outcomes import (
    OUTCOME_TABLES,
    OutcomeConfig,
    OutcomeInputs,
    compute_outcomes,
    input_window,
)
from outcome_pipeline_tests.outcomes import fixture as fx

AS_OF = fx.lt("06-25 00:00")


def windowed(inputs: OutcomeInputs, first: date, last: date, as_of: datetime) -> OutcomeInputs:
    """Only the staged days input_window says to read: proves the window is enough."""
    window = input_window(first, last, as_of, OutcomeConfig())
    parts = {}
    for name in ("interactions", "customers", "cases", "subscription_events", "survey_responses"):
        table: pa.Table = getattr(inputs, name)
        start, end = window.for_input(name)
        keep = pc.less_equal(table["partition_date"], pa.scalar(end, pa.date32()))
        if start is not None:
            keep = pc.and_(keep, pc.greater_equal(table["partition_date"], pa.scalar(start)))
        parts[name] = table.filter(keep)
    return OutcomeInputs(**parts)


def test_range_equals_day_by_day() -> None:
    inputs = fx.inputs()
    together = compute_outcomes(windowed(inputs, fx.D1, fx.D3, AS_OF), fx.DAYS, AS_OF)
    for name in OUTCOME_TABLES:
        alone = pa.concat_tables(
            compute_outcomes(windowed(inputs, d, d, AS_OF), [d], AS_OF)[name] for d in fx.DAYS
        )
        assert alone.num_rows > 0, name
        assert alone.to_pylist() == together[name].to_pylist(), name


def test_same_inputs_and_as_of_give_identical_rows() -> None:
    first = compute_outcomes(fx.inputs(), fx.DAYS, AS_OF)
    again = compute_outcomes(fx.inputs(), fx.DAYS, AS_OF)
    for name in OUTCOME_TABLES:
        assert first[name].equals(again[name]), name


# Fields of daily_outcomes allowed to change between D2 + 1 and D2 + 8: everything that waits
# for a window. Contacts, repeats, starts and the spine are known when the day ends.
MATURING = {
    "journeys_ended",
    "contacts_in_ended_journeys",
    "resolved_journeys",
    "resolution_rate",
    "failed_journeys",
    "fcr_journeys",
    "fcr_rate",
    "multichannel_journeys",
    "channel_switch_rate",
    "contacts_in_resolved_journeys",
    "contacts_per_resolution",
    "contacts_per_resolution_p90",
    "time_to_resolution_median_hours",
    "time_to_resolution_p90_hours",
    "effortless_resolutions",
    "effortless_resolution_rate",
    "customer_success_ratio",
    "churn_30d_rate",
    "churn_90d_rate",
    "mrr_at_stake",
    "revenue_kept",
    "resolved_claims",
    "false_resolutions",
    "false_resolution_rate",
    "is_final",
    "as_of",
}


def test_restatement_changes_only_maturing_fields_and_flips_is_final() -> None:
    early = compute_outcomes(fx.inputs(), [fx.D2], fx.lt("06-12 02:30"))
    late = compute_outcomes(fx.inputs(), [fx.D2], fx.lt("06-19 02:30"))
    before, after = early["daily_outcomes"].to_pylist(), late["daily_outcomes"].to_pylist()
    assert len(before) == len(after)
    changed = {k for b, a in zip(before, after, strict=True) for k in b if b[k] != a[k]}
    assert changed <= MATURING
    assert {"is_final", "resolved_journeys", "false_resolutions"} <= changed
    assert {r["is_final"] for r in before} == {False}
    assert {r["is_final"] for r in after} == {True}
    # Day 2 by hand: nothing had ended at 06-12 02:30 (rates NULL, not 0); by 06-19 02:30
    # Carol's and the prospect's journeys have (windows closed 06-18 14:20 and 18:00).
    assert (
        sum(r["journeys_started"] for r in before) == sum(r["journeys_started"] for r in after) == 2
    )
    assert sum(r["resolved_journeys"] for r in before) == 0
    assert {r["resolution_rate"] for r in before} == {None}
    assert sum(r["resolved_journeys"] for r in after) == 2
    assert sum(r["false_resolutions"] for r in after) == 1  # P1, falsified by P2
    # Outputs need no window: only as_of differs.
    for b, a in zip(
        early["daily_outputs"].to_pylist(), late["daily_outputs"].to_pylist(), strict=True
    ):
        assert {k for k in b if b[k] != a[k]} == {"as_of"}
    jb = {r["journey_id"]: r for r in early["journeys"].to_pylist()}
    assert {r["is_final"] for r in jb.values()} == {False}
    assert all(r["resolved"] is None for r in jb.values())


# Constant by construction: a configured threshold; one journey per customer and day (W >= 1).
CONSTANT_BY_DESIGN = {
    ("daily_outputs", "sl_threshold_seconds"),
    ("customer_outcomes", "journeys_started"),
}


def test_every_flag_and_count_column_takes_more_than_one_value() -> None:
    """No column may be stuck (the dbt_zendesk ``replies < 0`` pitfall)."""
    as_ofs = [fx.lt("06-11 02:30"), AS_OF, fx.lt("09-30 00:00")]
    runs = [compute_outcomes(fx.inputs(), fx.DAYS, t) for t in as_ofs]
    stuck = []
    for name, table in OUTCOME_TABLES.items():
        data = pa.concat_tables(run[name] for run in runs)
        for column in table.columns:
            if column.type not in (pa.bool_(), pa.int64()):
                continue
            values = set(data[column.name].to_pylist()) - {None}
            if len(values) < 2 and (name, column.name) not in CONSTANT_BY_DESIGN:
                stuck.append(f"{name}.{column.name} = {values}")
    assert stuck == []


def test_input_window_and_as_of_guard() -> None:
    cfg = OutcomeConfig(repeat_window_days=7)
    as_of = datetime(2024, 6, 11, 1, 30, tzinfo=UTC)
    window = input_window(fx.D1, fx.D1, as_of, cfg)
    assert window == (date(2024, 6, 1), date(2024, 6, 11))
    assert window.for_input("customers") == (None, date(2024, 6, 11))
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_outcomes(fx.inputs(), fx.DAYS, datetime(2024, 6, 25))
    empty = compute_outcomes(fx.inputs(), [], AS_OF)
    assert all(t.num_rows == 0 for t in empty.values())
