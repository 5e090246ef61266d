"""Validate one table's rows for a range of business days with one GX pass, not one per day.

The results are per day and the same as :func:`~.validate.validate_day` gives day by day
(tested): the precheck still judges each day's rows (vectorised, cheap); what runs once for
the range is GX, whose fixed cost per call (suite, batch, pandas frame) a day-by-day range
pays for every table-day. The ``auto`` engine's two GX calls become two per range:

- the dataset-level suite over every row of the range. Rules that judge "the day" get the
  day as a column: the key is unique per (key, day); the event time's "mostly in the day"
  compares each row with its own day's bounds (helper columns), its share computed per day
  from the failing rows' positions; columns and types are the same frame-wide (one schema);
  the row count is each day's own;
- the row-level confirmation over the union of the days' samples (each drawn as
  ``validate_day`` draws it), a timestamp's day-dependent upper bound again a helper column.

A day whose sample disagrees falls back to GX on that day's whole rows, as ``validate_day``
does. Engines other than ``auto``, a single day, or days whose rules or columns differ in
any other way are validated day by day.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pyarrow as pa

from outcome_pipeline.contracts.feeds import TableContract
from outcome_pipeline.validation import precheck as P
from outcome_pipeline.validation import rules as R
from outcome_pipeline.validation.config import ValidationConfig
from outcome_pipeline.validation.validate import (
    DEFAULT_CONFIRM_ROWS,
    DayValidation,
    _conclude,
    _confirmation_rows,
    _disagreements,
    _Plan,
    _plan,
    _run_precheck,
    _Verdict,
    validate_day,
)

DAY = "__day"  # the day's index in the range: a helper column, never a contract column


def validate_range(
    rows_by_day: Mapping[date, pa.Table],
    contract: TableContract,
    timezone: str,
    engine: str = "auto",
    *,
    confirm_rows: int = DEFAULT_CONFIRM_ROWS,
    cfg: ValidationConfig | None = None,
) -> dict[date, DayValidation]:
    """Each day's :class:`DayValidation` of its typed, deduplicated rows (as ``validate_day``)."""
    days = sorted(rows_by_day)
    plans = {d: _plan(rows_by_day[d], contract, d, timezone, None, cfg) for d in days}
    varying = _day_dependent(plans) if engine == "auto" and len(days) > 1 else None
    if varying is None:
        return {
            d: validate_day(
                rows_by_day[d], contract, d, timezone, engine, confirm_rows=confirm_rows, cfg=cfg
            )
            for d in days
        }
    out: dict[date, DayValidation] = {}
    verdicts: dict[date, _Verdict] = {}
    for d in days:
        n = plans[d].table.num_rows
        out[d] = DayValidation(
            table=contract.name,
            day=d,
            timezone=timezone,
            engine=engine,
            num_rows=n,
            row_failures={},
            failed_mask=np.zeros(n, dtype=bool),
            expectations=[],
            rules=plans[d].rules,
        )
        verdicts[d] = _Verdict()
        start = time.perf_counter()
        _run_precheck(plans[d], verdicts[d], dataset_level=False)
        out[d].precheck_seconds = time.perf_counter() - start
    _run_gx_once(days, plans, verdicts, out, varying, confirm_rows)
    not_evaluated = P.Counts(False, 0, 0, observed="not evaluated: column missing or mistyped")
    for d in days:
        v = out[d]
        missing = dataclasses.replace(not_evaluated, element_count=v.num_rows)
        _conclude(v, plans[d], verdicts[d], missing)
    return out


def _day_dependent(plans: Mapping[date, _Plan]) -> set[str] | None:
    """Names of the rules whose bounds change with the day (every other field equal), or
    None when the days cannot share one GX pass (other differences, or another schema)."""
    first = next(iter(plans.values()))
    names = [r.name for r in first.rules]
    varying: set[str] = set()
    for plan in plans.values():
        if [r.name for r in plan.rules] != names or not plan.table.schema.equals(
            first.table.schema
        ):
            return None
        if [r.name for r in plan.row_rules] != [r.name for r in first.row_rules] or [
            r.name for r in plan.dataset_rules
        ] != [r.name for r in first.dataset_rules]:
            return None
        for a, b in zip(first.rules, plan.rules, strict=True):
            if a == b:
                continue
            if (
                a.kind != R.BETWEEN
                or dataclasses.replace(a, min_value=b.min_value, max_value=b.max_value) != b
            ):
                return None
            varying.add(a.name)
    if DAY in first.table.column_names:
        return None
    return varying


def _bound_columns(
    days: Sequence[date], plans: Mapping[date, _Plan], name: str, sizes: Sequence[int]
) -> tuple[str, str, pa.Array, pa.Array]:
    """Helper columns holding each row's own day's bounds of rule ``name``."""
    rules = [next(r for r in plans[d].rules if r.name == name) for d in days]
    column_type = plans[days[0]].table.schema.field(rules[0].column).type

    # Each day's value converted once, then gathered per row by position: converting one
    # Python object per row was most of the range pass's helper-column cost.
    positions = pa.array(np.repeat(np.arange(len(days), dtype=np.int64), sizes))

    def repeat(values: list[object]) -> pa.Array:
        return pa.array(values, column_type).take(positions)

    lo, hi = f"__lo_{name}", f"__hi_{name}"
    return lo, hi, repeat([r.min_value for r in rules]), repeat([r.max_value for r in rules])


def _pair_rules(rule: R.Rule, lo: str | None, hi: str | None) -> list[R.Rule]:
    """BETWEEN ``rule`` against per-row bound columns: value >= lo, value < (or <=) hi."""
    out = []
    if lo is not None:
        out.append(
            R.Rule(
                name=f"{rule.name}__lo",
                kind=R.ORDER,
                level="row",
                severity=rule.severity,
                column=rule.column,
                other=lo,
            )
        )
    if hi is not None:
        out.append(
            R.Rule(
                name=f"{rule.name}__hi",
                kind=R.ORDER_STRICT if rule.strict_max else R.ORDER,
                level="row",
                severity=rule.severity,
                column=hi,
                other=rule.column,
            )
        )
    return out


def _run_gx_once(
    days: Sequence[date],
    plans: Mapping[date, _Plan],
    verdicts: Mapping[date, _Verdict],
    out: Mapping[date, DayValidation],
    varying: set[str],
    confirm_rows: int,
) -> None:
    from outcome_pipeline.validation import gx_run

    import_s = gx_run.import_seconds()
    start = time.perf_counter()
    first = plans[days[0]]
    name = out[days[0]].table
    sizes = [plans[d].table.num_rows for d in days]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    table = pa.concat_tables([plans[d].table for d in days])
    table = table.append_column(DAY, pa.array(np.repeat(np.arange(len(days)), sizes), pa.int32()))
    helpers: dict[str, tuple[str | None, str | None]] = {}
    for rule_name in sorted(varying):
        lo, hi, lo_values, hi_values = _bound_columns(days, plans, rule_name, sizes)
        rules = [next(r for r in plans[d].rules if r.name == rule_name) for d in days]
        use_lo = len({r.min_value for r in rules}) > 1
        use_hi = len({r.max_value for r in rules}) > 1
        if use_lo:
            table = table.append_column(lo, lo_values)
        if use_hi:
            table = table.append_column(hi, hi_values)
        helpers[rule_name] = (lo if use_lo else None, hi if use_hi else None)
    helper_names = [c for c in table.column_names if c.startswith("__")]

    # -- dataset-level suite, the whole range ------------------------------------------------
    ds_rules: list[R.Rule] = []
    split: dict[str, list[str]] = {}  # day rule -> range rules whose positions decide it
    for rule in first.dataset_rules:
        if rule.kind == R.COLUMNS:
            ds_rules.append(dataclasses.replace(rule, values=(*rule.values, *helper_names)))
        elif rule.kind == R.UNIQUE:
            ds_rules.append(
                dataclasses.replace(rule, kind=R.UNIQUE_WITHIN, values=(rule.column, DAY))
            )
        elif rule.name in helpers:
            lo, hi = helpers[rule.name]
            pairs = _pair_rules(rule, lo, hi)
            fixed = dataclasses.replace(
                rule,
                level="row",
                mostly=None,
                min_value=None if lo else rule.min_value,
                max_value=None if hi else rule.max_value,
            )
            keep = fixed.min_value is not None or fixed.max_value is not None
            parts = pairs + ([fixed] if keep else [])
            ds_rules += parts
            split[rule.name] = [p.name for p in parts]
        else:
            ds_rules.append(rule)
    frame = gx_run.to_frame(table)
    ds = gx_run.run_rules(frame, ds_rules, f"{name}_dataset", complete=True)
    for i, d in enumerate(days):
        verdict, plan, n = verdicts[d], plans[d], sizes[i]
        lo_pos, hi_pos = offsets[i], offsets[i + 1]

        def in_day(positions: np.ndarray, lo_pos: int = lo_pos, hi_pos: int = hi_pos) -> set:
            return {int(p) - lo_pos for p in positions if lo_pos <= p < hi_pos}

        for rule in plan.dataset_rules:
            if rule.kind == R.UNIQUE:
                bad = len(in_day(ds[rule.name].positions))
                verdict.ds_counts[rule.name] = P.Counts(bad == 0, bad, n)
            elif rule.name in split:
                bad_rows: set[int] = set()
                for part in split[rule.name]:
                    bad_rows |= in_day(ds[part].positions)
                present = n - plan.table[rule.column].null_count
                ok = present == 0 or (present - len(bad_rows)) / present >= (rule.mostly or 1.0)
                verdict.ds_counts[rule.name] = P.Counts(ok, len(bad_rows), n)
            else:  # columns and types: one schema, the same verdict every day
                g = ds[rule.name]
                verdict.ds_counts[rule.name] = P.Counts(
                    g.success, g.unexpected_count, n, g.observed
                )
        verdict.ds_engine = "gx"

    # -- row-level confirmation: the union of the days' samples ------------------------------
    samples = {
        d: _confirmation_rows(verdicts[d].masks, sizes[i], confirm_rows, name, d)
        for i, d in enumerate(days)
    }
    positions = np.concatenate([samples[d] + offsets[i] for i, d in enumerate(days)])
    row_rules: list[R.Rule] = []
    row_split: dict[str, list[str]] = {}
    for rule in first.row_rules:
        if rule.name in helpers:
            lo, hi = helpers[rule.name]
            fixed = dataclasses.replace(
                rule,
                min_value=None if lo else rule.min_value,
                max_value=None if hi else rule.max_value,
            )
            parts = _pair_rules(rule, lo, hi)
            if fixed.min_value is not None or fixed.max_value is not None:
                parts.append(fixed)
            row_rules += parts
            row_split[rule.name] = [p.name for p in parts]
        else:
            row_rules.append(rule)
    sub = gx_run.to_frame(table.take(pa.array(positions, pa.int64())), positions)
    got = gx_run.run_rules(sub, row_rules, f"{name}_confirm", complete=True)
    for i, d in enumerate(days):
        plan, verdict, v = plans[d], verdicts[d], out[d]
        lo_pos, hi_pos = offsets[i], offsets[i + 1]
        per_rule = {}
        for rule in plan.row_rules:
            names = row_split.get(rule.name, [rule.name])
            hits = np.concatenate([got[k].positions for k in names]) if names else np.array([])
            local = np.unique(hits[(hits >= lo_pos) & (hits < hi_pos)] - lo_pos)
            per_rule[rule.name] = gx_run.GxResult(rule.name, True, len(local), 0, local)
        v.confirmed_rows = len(samples[d])
        v.disagreements = _disagreements(plan.row_rules, verdict.masks, per_rule, samples[d])
    elapsed = time.perf_counter() - start
    total = max(sum(sizes), 1)
    for i, d in enumerate(days):
        v, plan, verdict = out[d], plans[d], verdicts[d]
        v.gx_import_seconds = import_s if i == 0 else 0.0
        v.gx_seconds = elapsed * sizes[i] / total
        if v.disagreements:  # as validate_day: GX on the whole day decides its rows
            t0 = time.perf_counter()
            day_frame = gx_run.to_frame(plan.table)
            full = gx_run.run_rules(day_frame, plan.row_rules, f"{name}_rows", complete=True)
            for rule in plan.row_rules:
                g = full[rule.name]
                mask = np.zeros(sizes[i], dtype=bool)
                mask[g.positions] = True
                verdict.masks[rule.name] = mask
                verdict.row_counts[rule.name] = P.Counts(
                    g.success, g.unexpected_count, g.element_count
                )
            verdict.row_engine = "gx"
            v.gx_seconds += time.perf_counter() - t0
