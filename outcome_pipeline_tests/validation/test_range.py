"""One GX pass per table per range gives every day the validation ``validate_day`` gives it.

Generated days with injected defects (every reason code of the rules), late rows and a DST
change: per table, ``validate_range`` over the days must equal ``validate_day`` day by day
in everything the quarantine and the Data Docs read (row failures and warnings, every
expectation's outcome, success), while GX is called twice for the range instead of twice a
day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from outcome_pipeline import generator
from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.validation import gx_run
from outcome_pipeline.validation import precheck as P
from outcome_pipeline.validation.range import _bound_columns, _day_dependent, validate_range
from outcome_pipeline.validation.validate import DayValidation, _plan, validate_day

START = date(2024, 3, 29)  # spans the DST change of 2024-03-31 in Europe/London
DAYS = 4
TZ = "Europe/London"

pytestmark = [pytest.mark.usefixtures("gx_imported"), pytest.mark.slow]


@pytest.fixture(scope="module")
def validated_rows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[date, pa.Table]]:
    """What staging hands the validator: each table-day's typed, deduplicated rows."""
    root = tmp_path_factory.mktemp("landing")
    generator.generate(
        generator.GeneratorConfig(
            out_dir=root,
            start=START,
            days=DAYS,
            interactions_per_day=500,
            seed=7,
            defect_rate=0.05,
            timezone=TZ,
        )
    )
    seen: dict[str, dict[date, pa.Table]] = {}

    def keep(rows: pa.Table, contract, day: date) -> dict:
        seen.setdefault(contract.name, {})[day] = rows
        return {}

    for contract in CONTRACTS.values():
        for i in range(DAYS):
            stage_day(root, contract, START + timedelta(days=i), TZ, validator=keep)
    return seen


def _same(got: DayValidation, want: DayValidation) -> None:
    assert got.num_rows == want.num_rows
    assert got.rules == want.rules  # with the expectations: what the Data Docs show
    assert got.row_failures == want.row_failures
    assert got.row_warnings == want.row_warnings
    assert (got.failed_mask == want.failed_mask).all()
    assert [e.as_dict() for e in got.expectations] == [e.as_dict() for e in want.expectations]
    assert (got.success, got.unexplained) == (want.success, want.unexplained)
    assert (got.confirmed_rows, got.disagreements) == (want.confirmed_rows, want.disagreements)
    assert got.quarantine_reasons().equals(want.quarantine_reasons())


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_a_range_validates_each_day_as_day_by_day(
    validated_rows, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = validated_rows[table]
    contract = CONTRACTS[table]
    calls: list[str] = []
    run_rules = gx_run.run_rules

    def counted(frame, rules, suite_name, **kwargs):
        calls.append(suite_name)
        return run_rules(frame, rules, suite_name, **kwargs)

    monkeypatch.setattr(gx_run, "run_rules", counted)
    by_day = {d: validate_day(rows[d], contract, d, TZ) for d in sorted(rows)}
    day_calls, calls[:] = len(calls), []
    ranged = validate_range(rows, contract, TZ)
    assert sorted(ranged) == sorted(by_day)
    for d, want in by_day.items():
        _same(ranged[d], want)
    assert day_calls == 2 * len(rows)
    assert len(calls) == 2, calls  # dataset suite + confirmation, once for the range
    if table in ("interactions", "survey_responses"):  # the generator's defects land here
        assert sum(v.rows_failed for v in by_day.values()) > 0


def _shift(rows: pa.Table, column: str, positions: list[int], to: datetime) -> pa.Table:
    values = rows[column].to_pylist()
    for p in positions:
        values[p] = to
    i = rows.column_names.index(column)
    return rows.set_column(i, column, pa.array(values, rows.schema.field(column).type))


def test_day_bounds_are_each_rows_own_day(validated_rows, monkeypatch) -> None:
    """Event times that are plausible for a later day of the range but not for their own day
    are impossible (the bound is the row's day's, not the range's); and a day whose precheck
    disagrees with GX's sample falls back to GX on its whole rows, as day by day."""
    contract = CONTRACTS["interactions"]
    rows = dict(validated_rows["interactions"])
    first, last = min(rows), max(rows)
    late = datetime.combine(last, time(12), ZoneInfo(TZ))  # 3 days after the first day
    rows[first] = _shift(rows[first], "queued_at", [0, 1, 2], late)
    rows[first] = _shift(rows[first], "ended_at", [5], late + timedelta(days=40))
    # A key twice in the last day (unique per day), and the first day's first key there too
    # (another day: no duplicate).
    rows[last] = pa.concat_tables([rows[last], rows[last].slice(0, 1), rows[first].slice(0, 1)])
    mask = P.row_mask

    def wrong_on_the_second_day(rule, table):
        got = mask(rule, table)
        if rule.name == "channel_allowed" and table.num_rows == rows[START + timedelta(1)].num_rows:
            got = got.copy()
            got[0] = not got[0]
        return got

    monkeypatch.setattr(P, "row_mask", wrong_on_the_second_day)
    by_day = {d: validate_day(rows[d], contract, d, TZ) for d in sorted(rows)}
    ranged = validate_range(rows, contract, TZ)
    for d, want in by_day.items():
        _same(ranged[d], want)
    codes = {f.code for fs in by_day[first].row_failures.values() for f in fs}
    assert {0, 1, 2, 5} <= set(by_day[first].row_failures)
    assert "impossible_timestamp" in codes
    assert by_day[START + timedelta(1)].disagreements
    unique = [e for e in by_day[last].expectations if e.name == "interaction_id_unique"]
    assert [(e.success, e.unexpected_count) for e in unique] == [(False, 2)]


def test_bound_columns_hold_each_rows_own_day_bounds(validated_rows) -> None:
    """The helper columns, gathered per day, equal the bounds written out row by row: across
    the DST change, with a day without rows among the others."""
    contract = CONTRACTS["interactions"]
    rows = dict(validated_rows["interactions"])
    empty_day = START + timedelta(days=1)
    rows[empty_day] = rows[empty_day].slice(0, 0)
    days = sorted(rows)
    plans = {d: _plan(rows[d], contract, d, TZ, None, None) for d in days}
    varying = _day_dependent(plans)
    assert varying  # the event-time bounds change with the day
    sizes = [plans[d].table.num_rows for d in days]
    assert 0 in sizes
    for name in sorted(varying):
        rules = [next(r for r in plans[d].rules if r.name == name) for d in days]
        column_type = plans[days[0]].table.schema.field(rules[0].column).type
        lo, hi, lo_values, hi_values = _bound_columns(days, plans, name, sizes)
        assert (lo, hi) == (f"__lo_{name}", f"__hi_{name}")
        for got, bound in ((lo_values, "min_value"), (hi_values, "max_value")):
            per_row = [
                getattr(r, bound) for r, n in zip(rules, sizes, strict=True) for _ in range(n)
            ]
            want = pa.array(per_row, column_type)
            assert got.type == column_type
            assert got.equals(want)
            assert got.to_pylist() == per_row
