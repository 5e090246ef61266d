"""GX (the suite of record) and the vectorised precheck flag exactly the same rows, same codes.

These tests import Great Expectations (~3-4 s once per session).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.validation import DayValidation, validate_day
from outcome_pipeline.validation import precheck as P
from outcome_pipeline.validation import validate as validate_module
from outcome_pipeline_tests.validation.fixtures import DAY, TZ, clean, every_defect, rows_table
from outcome_pipeline_tests.validation.synth import interactions_day, surveys_day

pytestmark = pytest.mark.usefixtures("gx_imported")


def _verdicts(v: DayValidation) -> dict[str, Any]:
    """Everything two engines must agree on (dataset-level type facts differ in wording)."""
    return {
        "row_failures": v.row_failures,
        "row_warnings": v.row_warnings,
        "failed_mask": v.failed_mask.tolist(),
        "success": v.success,
        "expectations": [
            (e.name, e.success, e.unexpected_count, e.element_count)
            if e.level == "row" or e.type != "expect_column_values_to_be_of_type"
            else (e.name, e.success)
            for e in v.expectations
        ],
    }


def _all_engines(rows: pa.Table, table: str, **kw: Any) -> dict[str, DayValidation]:
    return {
        engine: validate_day(rows, CONTRACTS[table], DAY, TZ, engine=engine, **kw)
        for engine in ("gx", "precheck", "auto")
    }


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_gx_and_precheck_agree_on_every_defect_kind(table: str) -> None:
    rows, expected = every_defect(table)
    runs = _all_engines(rows, table)
    assert {i: {f.code for f in fs} for i, fs in runs["gx"].row_failures.items()} == expected
    assert _verdicts(runs["gx"]) == _verdicts(runs["precheck"]) == _verdicts(runs["auto"])
    assert runs["auto"].disagreements == [] and runs["auto"].confirmed_rows == rows.num_rows
    assert {e.engine for e in runs["gx"].expectations} == {"gx"}


def test_gx_and_precheck_agree_on_tricky_values() -> None:
    """Values where pandas/GX and Arrow semantics could differ: NaN, edges, whitespace."""
    records = [
        clean("customers", "c1", mrr=float("nan")),  # NaN: missing for GX, ignored by precheck
        clean("customers", "c2", mrr=0.0),  # inclusive bound
        clean("customers", "c3", mrr=-0.0001),
        clean("customers", "c4", email="a@b.co\n"),  # Python `$` would accept the newline
        clean("customers", "c5", email=" a@b.co"),
        clean("customers", "c6", email="zoë@exämple.de"),
        clean("customers", "c7", phone="+44 (0)20 7946 0018"),
        clean("customers", "c8", phone="12345"),
        clean("customers", "c12", email="zoë\u00a0x@exämple.de"),  # NBSP: Unicode \s only
        clean("customers", "c13", phone="+44 \u0667\u0667\u0660\u0660 900123"),  # Unicode \d only
        clean("customers", "c9", segment=""),  # empty string is a value, not a null
        clean("customers", "c10", segment="Consumer"),
        clean("customers", "c11", created_at=clean("customers")["created_at"].replace(year=2000)),
    ]
    runs = _all_engines(rows_table(CONTRACTS["customers"], records), "customers")
    assert _verdicts(runs["gx"]) == _verdicts(runs["precheck"]) == _verdicts(runs["auto"])
    assert sorted(runs["gx"].row_failures) == [2, 10, 11]
    assert sorted(runs["gx"].row_warnings) == [7, 9]  # blanks around a value are fine


def test_gx_and_precheck_agree_on_a_realistic_day_with_defects() -> None:
    for day in (
        interactions_day(10_000, DAY, TZ, defect_rate=0.02, seed=3),
        surveys_day(5_000, DAY, TZ, defect_rate=0.05, seed=5),
    ):
        runs = {
            e: validate_day(day.table, day.contract, DAY, TZ, engine=e)
            for e in ("gx", "precheck", "auto")
        }
        assert _verdicts(runs["gx"]) == _verdicts(runs["precheck"]) == _verdicts(runs["auto"])
        assert runs["auto"].disagreements == []
        gx = runs["gx"]
        assert set(gx.row_failures) == set(day.defects)  # every planted defect, nothing else
        for row, (kind, code) in day.defects.items():
            assert code in {f.code for f in gx.row_failures[row]}, (kind, row)
        assert len(gx.row_warnings) > 0 or day.contract.name == "survey_responses"


def test_auto_falls_back_to_gx_when_the_precheck_disagrees(monkeypatch: pytest.MonkeyPatch) -> None:
    rows, expected = every_defect("interactions")
    real = P.row_mask

    def blind_to_channel(rule: Any, table: pa.Table) -> np.ndarray:
        mask = real(rule, table)
        return np.zeros_like(mask) if rule.name == "channel_allowed" else mask

    monkeypatch.setattr(validate_module.P, "row_mask", blind_to_channel)
    broken_precheck = validate_day(rows, CONTRACTS["interactions"], DAY, TZ, engine="precheck")
    assert {i: {f.code for f in fs} for i, fs in broken_precheck.row_failures.items()} != expected
    v = validate_day(rows, CONTRACTS["interactions"], DAY, TZ, engine="auto")
    assert len(v.disagreements) == 1 and v.disagreements[0].startswith("channel_allowed")
    assert {i: {f.code for f in fs} for i, fs in v.row_failures.items()} == expected
    assert {e.engine for e in v.expectations if e.level == "row"} == {"gx"}


def test_auto_confirms_a_sample_of_a_large_day() -> None:
    day = interactions_day(30_000, DAY, TZ, defect_rate=0.01, seed=9)
    v = validate_day(day.table, day.contract, DAY, TZ, engine="auto", confirm_rows=2_000)
    flagged = set(v.row_failures) | set(v.row_warnings)
    assert len(v.row_failures) == 300
    assert v.confirmed_rows == 2_000 + len(flagged)  # every flagged row + 2,000 clean ones
    assert v.disagreements == [] and set(v.row_failures) == set(day.defects)
    assert {e.engine for e in v.expectations if e.level == "dataset"} == {"gx"}


def test_known_ids_agree_between_engines() -> None:
    records = [
        clean("survey_responses", "r1"),
        clean("survey_responses", "r2", interaction_id="i-404"),
        clean("survey_responses", "r3", interaction_id=None),
    ]
    known = {"interaction_id": {"i-clean"}}
    runs = _all_engines(
        rows_table(CONTRACTS["survey_responses"], records), "survey_responses", known_ids=known
    )
    assert _verdicts(runs["gx"]) == _verdicts(runs["precheck"])
    assert [f.code for f in runs["gx"].row_failures[1]] == ["unknown_reference"]


def test_gx_handles_empty_and_misshapen_days() -> None:
    contract = CONTRACTS["cases"]
    empty = validate_day(rows_table(contract, []), contract, DAY, TZ, engine="gx")
    assert empty.success and empty.num_rows == 0
    rows = rows_table(contract, [clean("cases", "k1"), clean("cases", "k1")])
    retyped = rows.set_column(2, "opened_at", rows["opened_at"].cast(pa.string()))
    for engine in ("gx", "auto"):
        v = validate_day(retyped.drop_columns(["reason"]), contract, DAY, TZ, engine=engine)
        failed = {e.name for e in v.expectations if not e.success}
        assert {"columns_match_contract", "opened_at_type", "case_id_unique"} <= failed
        assert not v.success


def test_gx_timings_are_reported() -> None:
    from outcome_pipeline.validation import gx_run

    rows, _ = every_defect("cases")
    v = validate_day(rows, CONTRACTS["cases"], DAY, TZ, engine="auto")
    assert v.gx_seconds > 0 and v.precheck_seconds > 0
    assert gx_run._RUNTIME["fingerprint_skipped"] is True  # the GX 1.24 knob still exists
