"""The outcome engine's session: its memory cap (parsed once, validated where it is configured)
and its checkpoint setting."""

from __future__ import annotations

import os

import pytest

from outcome_pipeline.outcomes.engine import (
    DEFAULT_MEMORY_SHARE,
    engine_memory_limit,
    engine_session,
)
from outcome_pipeline.settings import Settings

PHYSICAL_MIB = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 20


def test_sizes_pass_through_and_shares_are_of_physical_memory() -> None:
    assert engine_memory_limit("6GB") == "6GB"
    assert engine_memory_limit("512MiB") == "512MiB"
    quarter = int(engine_memory_limit("25%").removesuffix("MiB"))
    assert abs(quarter - PHYSICAL_MIB * 0.25) <= 1
    default = int(engine_memory_limit(None).removesuffix("MiB"))
    assert abs(default - PHYSICAL_MIB * DEFAULT_MEMORY_SHARE) <= 1
    assert engine_memory_limit("") == engine_memory_limit(None)


@pytest.mark.parametrize("bad", ["6 G", "abc", "0%", "150%", "x%", "-1GB", "6GB; DROP"])
def test_malformed_limits_are_refused_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match="memory limit"):
        engine_memory_limit(bad)


def test_settings_reject_a_malformed_limit_at_load_time() -> None:
    assert Settings.from_env({"OUTCOME_COMPUTE_MEMORY_LIMIT": "4GB"}).compute_memory_limit == "4GB"
    assert Settings.from_env({}).compute_memory_limit == ""
    with pytest.raises(ValueError, match="OUTCOME_COMPUTE_MEMORY_LIMIT"):
        Settings.from_env({"OUTCOME_COMPUTE_MEMORY_LIMIT": "lots"})


def test_the_engine_session_does_not_checkpoint_automatically() -> None:
    """An automatic checkpoint of the in-memory session cost ~1 s of a 1M-interaction night
    (see ``engine_session``): the threshold must stay out of reach, with the cap still set."""
    with engine_session("256MiB") as con:
        threshold, limit = con.execute(
            "SELECT current_setting('checkpoint_threshold'), current_setting('memory_limit')"
        ).fetchone()
    value, unit = threshold.split()
    assert unit in ("GiB", "TiB") and float(value) * (1024 if unit == "TiB" else 1) >= 512
    assert limit == "256.0 MiB"
