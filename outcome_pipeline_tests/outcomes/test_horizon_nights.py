"""Simulated nights on skewed generated data: with the journey horizon every day becomes final
by day + 1 + H + W, and no nightly restatement reaches further back than H + W + 2 days.

Each night computes yesterday and restates the provisional days due that night, exactly as
the nightly plan does from the pending days (``maturity.final_on_days``). H = 10 days keeps
the run small; the bound is the same whatever H.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.generator.config import SKEWED
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.outcomes import OutcomeConfig, OutcomeInputs, compute_outcomes
from outcome_pipeline.outcomes.maturity import final_on_days

TZ = "Europe/London"
START = date(2024, 5, 1)
DAYS = 40
H, W = 10, 7


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> OutcomeInputs:
    root = Path(tmp_path_factory.mktemp("landing"))
    generate(GeneratorConfig(root, START, DAYS, 300, seed=11, timezone=TZ, **SKEWED))
    tables = {
        name: pa.concat_tables(
            stage_day(root, contract, START + timedelta(days=i), TZ).staged for i in range(DAYS)
        )
        for name, contract in CONTRACTS.items()
    }
    return OutcomeInputs(**tables)


@pytest.mark.slow
def test_every_day_is_final_by_day_plus_h_plus_w(inputs: OutcomeInputs) -> None:
    cfg = OutcomeConfig(timezone=TZ, max_journey_days=H, repeat_window_days=W)
    pending: dict[date, date] = {}
    final_at: dict[date, date] = {}
    longest = 0
    capped = 0
    for n in range(DAYS):
        night = START + timedelta(days=n)  # as_of: the end of this business day
        due = sorted(d for d, f in pending.items() if f <= night)
        days = sorted({*due, night})
        longest = max(longest, (night - days[0]).days + 1)
        as_of = datetime.combine(night + timedelta(days=1), time(), ZoneInfo(TZ))
        out = compute_outcomes(inputs, days, as_of, cfg)
        for d in days:
            pending.pop(d, None)
        pending.update(final_on_days(days, out["journeys"], night, W, TZ))
        for row in out["daily_outcomes"].select(["partition_date", "is_final"]).to_pylist():
            if row["is_final"]:
                final_at.setdefault(row["partition_date"], night)
        capped += sum(bool(c) for c in out["journeys"]["is_capped"].to_pylist())
    assert capped > 0  # the skewed data's heavy customers outlast H
    for n in range(DAYS - H - W):
        day = START + timedelta(days=n)
        assert day in final_at, day
        assert final_at[day] <= day + timedelta(days=H + W), day
    assert longest <= H + W + 2
