"""When staging must refuse to replace days with nothing (pure decisions, no Dagster)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.ingest.readiness import (
    ALLOW_EMPTY_DAYS_FLAG,
    ALLOW_EMPTY_DAYS_TAG,
    allow_empty_days,
    day_has_files,
    landing_refusal,
)

INTERACTIONS, CASES = CONTRACTS["interactions"], CONTRACTS["cases"]
D1, D2, D3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)
ROOT = Path("/landing")


def test_every_day_landed_is_never_refused() -> None:
    days = [D1, D2]
    assert landing_refusal(ROOT, True, INTERACTIONS, days, days, days, days) is None


def test_a_missing_landing_root_is_refused_whatever_the_warehouse_holds() -> None:
    refusal = landing_refusal(ROOT / "typo", False, CASES, [D1, D2], [], [], [])
    assert refusal is not None
    for needed in ("OUTCOME_LANDING_DIR", "/landing/typo", "does not exist", "cases"):
        assert needed in refusal.message
    assert ALLOW_EMPTY_DAYS_FLAG in refusal.message and ALLOW_EMPTY_DAYS_TAG in refusal.message


def test_a_staged_day_without_files_is_refused_naming_its_folder() -> None:
    # Cases of D2 were loaded with files before; D2 has landed (interactions are there) but
    # its cases files are gone: staging would wipe them.
    refusal = landing_refusal(ROOT, True, CASES, [D1, D2], [D1], [D1, D2], [D1, D2])
    assert refusal is not None
    assert "2024-03-02" in refusal.problem and "/landing/crm/2024-03-02" in refusal.problem
    assert "already holds staged rows" in refusal.message
    assert "OUTCOME_LANDING_DIR = /landing" in refusal.message


def test_a_landed_day_without_a_sparse_tables_files_is_staged_empty() -> None:
    # No cases on D2, never loaded with files: the CRM feed may have nothing on a day.
    assert landing_refusal(ROOT, True, CASES, [D1, D2], [D1], [D1, D2], [D1]) is None


def test_days_that_have_not_landed_are_refused_for_every_table() -> None:
    # A future range: no interactions files, nothing loaded before.
    for contract in (INTERACTIONS, CASES):
        refusal = landing_refusal(ROOT, True, contract, [D2, D3], [], [], [])
        assert refusal is not None, contract.name
        assert "have not landed yet" in refusal.message
        assert f"/landing/{contract.feed}/2024-03-02" in refusal.message


def test_the_override_tag() -> None:
    assert allow_empty_days({ALLOW_EMPTY_DAYS_TAG: "true"})
    assert allow_empty_days({ALLOW_EMPTY_DAYS_TAG: " TRUE "})
    assert not allow_empty_days({ALLOW_EMPTY_DAYS_TAG: "false"})
    assert not allow_empty_days({})
    assert not allow_empty_days(None)


@pytest.mark.parametrize(
    ("files", "expected"),
    [([], False), (["README.txt"], False), (["interactions.csv"], True)],
)
def test_day_has_files(tmp_path: Path, files: list[str], expected: bool) -> None:
    folder = tmp_path / "interactions" / D1.isoformat()
    folder.mkdir(parents=True)
    for name in files:
        (folder / name).write_text("interaction_id\n")
    assert day_has_files(tmp_path, INTERACTIONS, D1) is expected
    assert day_has_files(tmp_path, INTERACTIONS, D2) is False  # no folder at all
    assert day_has_files(tmp_path / "typo", INTERACTIONS, D1) is False
