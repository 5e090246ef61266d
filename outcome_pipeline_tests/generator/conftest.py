"""Small generated landing zones shared by the generator tests (generated once per session)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from outcome_pipeline.generator import GenerationReport, GeneratorConfig, generate

# Thursday 2024-03-28 .. Monday 2024-04-01: weekdays, a weekend and the spring-forward DST
# change of Europe/London (Sunday 31 March), so local-time offsets change inside the run.
START = date(2024, 3, 28)


def run(out: Path, **overrides: object) -> GenerationReport:
    settings: dict[str, object] = dict(
        out_dir=out, start=START, days=5, interactions_per_day=2_000, seed=7, defect_rate=0.02
    )
    settings.update(overrides)
    return generate(GeneratorConfig(**settings))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def defective_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    """Five days, 2,000 interactions a day, 2% defects."""
    out = tmp_path_factory.mktemp("landing_defects")
    return out, run(out)


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    """Same shape, no defects, a different seed."""
    out = tmp_path_factory.mktemp("landing_clean")
    return out, run(out, seed=11, defect_rate=0.0)
