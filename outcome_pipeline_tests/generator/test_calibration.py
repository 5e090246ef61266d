"""The calibrated profiles land in their documented bands, measured through the pipeline.

A small generated sample of each profile goes through ``stage_day`` and ``compute_outcomes``
(benchmarks/calibration.py, the same code as the calibration report); its 7-day repeat-contact
rate and contacts per journey must lie in ``generator.config.BANDS``. Before calibration the
default profile had ~58 % repeat contacts and ~2.4 contacts per journey at any size: it fails
here. The extreme profile keeps that skew, and stays outside the default band.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from benchmarks.calibration import Figures, measure_profile
from outcome_pipeline.cli.main import _parser
from outcome_pipeline.generator import GeneratorConfig
from outcome_pipeline.generator.config import BANDS, PROFILES

DAYS = 22  # W days of history, 8 measured days, W days for their journeys to end
PER_DAY = 1_000


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Figures]:
    root = Path(tmp_path_factory.mktemp("calibration"))
    return {p: measure_profile(p, DAYS, PER_DAY, seed=5, workdir=root) for p in PROFILES}


@pytest.mark.parametrize("profile", sorted(BANDS))
def test_calibrated_profiles_lie_in_their_bands(measured: dict[str, Figures], profile: str) -> None:
    figures = measured[profile]
    for name, (low, high) in BANDS[profile].items():
        value = getattr(figures, name)
        assert value is not None and low <= value <= high, (profile, name, value)


def test_extreme_keeps_the_old_skew(measured: dict[str, Figures]) -> None:
    repeat = measured["extreme"].repeat_contact_rate
    assert repeat is not None and repeat > BANDS["default"]["repeat_contact_rate"][1]
    assert repeat > measured["skewed"].repeat_contact_rate  # type: ignore[operator]


def test_profiles_are_selectable_by_name() -> None:
    run = {"out_dir": ".", "start": date(2024, 1, 1), "days": 1, "interactions_per_day": 10}
    assert GeneratorConfig.for_profile("extreme", **run, seed=1).max_customers == 1_000_000
    assert GeneratorConfig.for_profile("default", **run, seed=1) == GeneratorConfig(**run, seed=1)
    with pytest.raises(ValueError, match="unknown profile"):
        GeneratorConfig.for_profile("nope", **run, seed=1)
    args = _parser().parse_args(["generate", "--start", "2024-01-01", "--profile", "skewed"])
    assert args.profile == "skewed"
    choices = next(
        a
        for a in _parser()._subparsers._group_actions[0].choices["generate"]._actions
        if a.dest == "profile"
    ).choices
    assert set(choices) == set(PROFILES)
