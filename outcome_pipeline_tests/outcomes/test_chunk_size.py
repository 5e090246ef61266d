"""How long a chunk is (pure, no Dagster): a row budget for its main zone, not a fixed C."""

from __future__ import annotations

import pytest

from outcome_pipeline.outcomes.chunks import (
    FALLBACK_CHUNK_DAYS,
    MAX_WORK_FACTOR,
    chunk_size,
    min_chunk_days,
)
from outcome_pipeline.settings import DEFAULT_CHUNK_ROWS, Settings

TAIL = 1 + 30 + 7  # 1 + H + W at the defaults
BUDGET = 12_000_000  # not the default: the figures below read easily


def test_c_fills_the_budget_less_the_days_read_past_the_chunk() -> None:
    size = chunk_size(365, TAIL, BUDGET, 100_000)
    assert size.days == 120 - TAIL == 82
    assert "OUTCOME_CHUNK_ROWS=12,000,000 / ~100,000 staged interactions/day" in size.why
    assert chunk_size(365, TAIL, BUDGET, 150_000).days == 80 - TAIL


def test_c_does_not_grow_with_the_range_only_with_the_budget() -> None:
    assert {chunk_size(r, TAIL, BUDGET, 100_000).days for r in (200, 365, 3650)} == {82}
    assert chunk_size(3650, TAIL, 2 * BUDGET, 100_000).days == 240 - TAIL


@pytest.mark.parametrize("rows_per_day", [5_000, 20_000, 100_000, 150_000])
@pytest.mark.parametrize("range_days", [1, 30, 120, 365])
def test_the_main_zone_stays_within_the_budget_when_the_horizon_allows(
    rows_per_day: int, range_days: int
) -> None:
    c = chunk_size(range_days, TAIL, BUDGET, rows_per_day).days
    assert 1 <= c <= range_days
    assert (c + TAIL) * rows_per_day <= BUDGET


def test_a_short_range_is_one_chunk() -> None:
    size = chunk_size(40, TAIL, BUDGET, 100_000)
    assert size.days == 40 and "one chunk" in size.why


def test_a_budget_below_the_horizon_stops_at_the_work_floor() -> None:
    """At 1M/day a 12M budget is under the 39 days any chunk reads: C = 1 would read 39
    days per day computed; the floor keeps the work within MAX_WORK_FACTOR x one run's."""
    floor = min_chunk_days(TAIL)
    assert floor == 26  # ceil(38 / 1.5)
    assert (floor + TAIL) / floor <= MAX_WORK_FACTOR
    size = chunk_size(365, TAIL, BUDGET, 1_000_000)
    assert size.days == floor and "raised to 26" in size.why
    assert min_chunk_days(1 + 7 + 7) == 10
    assert min_chunk_days(0) == 1


def test_the_override_wins_and_unknown_volume_falls_back() -> None:
    assert chunk_size(365, TAIL, BUDGET, 100_000, override_days=7).days == 7
    assert chunk_size(365, TAIL, BUDGET, None, override_days=7).why == "OUTCOME_CHUNK_DAYS=7"
    unknown = chunk_size(365, TAIL, BUDGET, None)
    assert unknown.days == FALLBACK_CHUNK_DAYS and "load_audit" in unknown.why
    assert chunk_size(10, TAIL, BUDGET, None).days == 10
    assert chunk_size(365, TAIL, BUDGET, 0).days == 365


def test_the_settings_default_to_the_budget() -> None:
    s = Settings.from_env({})
    assert s.chunk_days is None and s.chunk_rows == DEFAULT_CHUNK_ROWS
    # At 100k/day the default budget makes a 31-day backfill run (the default) one chunk.
    assert chunk_size(365, TAIL, DEFAULT_CHUNK_ROWS, 100_000).days == 32
    s = Settings.from_env({"OUTCOME_CHUNK_DAYS": "90", "OUTCOME_CHUNK_ROWS": "5000000"})
    assert (s.chunk_days, s.chunk_rows) == (90, 5_000_000)
    assert Settings.from_env({"OUTCOME_CHUNK_DAYS": " "}).chunk_days is None
