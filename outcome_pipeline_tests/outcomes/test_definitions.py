"""The table definitions hold: every column is documented, every rate is its parts' ratio."""

from __future__ import annotations

import pyarrow as pa
import pytest

from outcome_pipeline.outcomes import OUTCOME_TABLES, RATES, compute_outcomes
from outcome_pipeline_tests.outcomes import fixture as fx


def test_every_table_and_column_has_a_definition() -> None:
    for table in OUTCOME_TABLES.values():
        assert len(table.comment) > 80, table.name
        assert table.columns[0].name == "partition_date"
        assert table.columns[0].type == pa.date32()
        assert table.column_names[-1] == "as_of"
        for column in table.columns:
            assert len(column.comment) > 10, f"{table.name}.{column.name}"


def test_every_rate_is_numerator_over_denominator_and_null_on_zero() -> None:
    runs = [
        compute_outcomes(fx.inputs(), fx.DAYS, t)
        for t in (fx.lt("06-12 02:30"), fx.lt("06-25 00:00"))
    ]
    checked = 0
    for name, rates in RATES.items():
        for run in runs:
            for row in run[name].to_pylist():
                for rate, (num, den) in rates.items():
                    checked += 1
                    if not row[den]:
                        assert row[rate] is None, (name, rate, row)
                    else:
                        assert row[rate] == pytest.approx(row[num] / row[den]), (name, rate)
    assert checked > 1000
