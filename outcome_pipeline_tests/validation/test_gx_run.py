"""How GX is run: each suite's value rules on the columns they read, the same results as on
the whole frame."""

from __future__ import annotations

import numpy as np
import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.validation import gx_run
from outcome_pipeline.validation import rules as R
from outcome_pipeline.validation import validate as validate_module
from outcome_pipeline_tests.validation.fixtures import DAY, TZ, every_defect

pytestmark = pytest.mark.usefixtures("gx_imported")


def _rule(kind: str, **fields: object) -> R.Rule:
    return R.Rule(name="r", kind=kind, level="row", severity="error", **fields)  # type: ignore[arg-type]


def test_columns_read_are_the_rules_own() -> None:
    assert gx_run.columns_read(_rule(R.NOT_NULL, column="a")) == ("a",)
    assert gx_run.columns_read(_rule(R.ORDER, column="a", other="b")) == ("a", "b")
    assert gx_run.columns_read(_rule(R.BETWEEN, column="s", when=("kind", "nps"))) == ("s", "kind")
    assert gx_run.columns_read(_rule(R.UNIQUE_WITHIN, column="id", values=("id", "__day"))) == (
        "id",
        "__day",
    )


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_narrow_frames_give_the_whole_frames_results(table: str) -> None:
    rows, _ = every_defect(table)
    plan = validate_module._plan(rows, CONTRACTS[table], DAY, TZ, None)
    rules = plan.row_rules + plan.dataset_rules
    frame = gx_run.to_frame(plan.table)
    assert {r.kind for r in rules} & set(gx_run.SHAPE_KINDS)
    narrow = gx_run.run_rules(frame, rules, "narrow", complete=True)
    whole = gx_run._validate(frame, rules, "whole", complete=True)  # one call, every column
    assert set(narrow) == set(whole) == {r.name for r in rules}
    for name, got in narrow.items():
        want = whole[name]
        assert (got.success, got.unexpected_count, got.element_count, got.observed) == (
            want.success,
            want.unexpected_count,
            want.element_count,
            want.observed,
        ), name
        assert np.array_equal(got.positions, want.positions), name
    assert any(len(g.positions) for g in narrow.values())  # the defects were found
