"""The rules of :mod:`.rules` as vectorised Arrow kernels: the fast path.

Each function mirrors the semantics of the GX expectation :mod:`.suites` builds from the same
rule, so both engines flag the same rows:

* column-map rules ignore missing values (GX filters nulls/NaN before the map condition),
  except ``not_null``, which counts NaN as missing like pandas ``isnull``;
* ``when`` restricts a rule to rows where a column equals a value (GX ``row_condition``);
  ``element_count`` is then the number of those rows, as in GX;
* ``order`` ignores rows where either side is missing (``ignore_row_if=either_value_is_missing``);
* ``mostly`` uses GX's formula: ``(non-missing - unexpected) / non-missing >= mostly``, and an
  all-missing column passes vacuously.

One deliberate difference: the ``type`` rule compares Arrow types exactly (unit and timezone
included), which is stricter than GX's pandas dtype-class check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.validation import rules as R
from outcome_pipeline.validation.messages import column_diff


@dataclass(frozen=True)
class Counts:
    """Outcome of one rule on one table, engine-neutral (no values)."""

    success: bool
    unexpected_count: int
    element_count: int
    observed: str | None = None


def _np(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _scalar(value: object, t: pa.DataType) -> pa.Scalar:
    return pa.scalar(value, type=t)


def row_mask(rule: R.Rule, table: pa.Table) -> np.ndarray:
    """Bool per row: True where the row breaks ``rule`` (a row-level rule)."""
    n = table.num_rows
    if n == 0:
        return np.zeros(0, dtype=bool)
    col = table[rule.column]
    if rule.kind == R.NOT_NULL:
        nan_is_null = pa.types.is_floating(col.type)
        return _np(pc.is_null(col, nan_is_null=nan_is_null))
    if rule.kind == R.IN_SET:
        values = pa.array(rule.values, type=col.type) if rule.values else pa.array([], col.type)
        return _np(pc.and_(pc.is_valid(col), pc.invert(pc.is_in(col, value_set=values))))
    if rule.kind == R.BETWEEN:
        bad = pa.array(np.zeros(n, dtype=bool))
        if rule.min_value is not None:
            bad = pc.or_(bad, pc.less(col, _scalar(rule.min_value, col.type)))
        if rule.max_value is not None:
            cmp = pc.greater_equal if rule.strict_max else pc.greater
            bad = pc.or_(bad, cmp(col, _scalar(rule.max_value, col.type)))
        mask = _np(bad)
        if rule.when:
            mask &= _when(rule, table)
        return mask
    if rule.kind == R.ORDER:
        other = table[rule.other]
        return _np(pc.less(col, other.cast(col.type)))
    if rule.kind == R.REGEX:
        return _np(pc.invert(pc.match_substring_regex(col, pattern=re2_pattern(rule.regex))))
    raise ValueError(f"{rule.name}: {rule.kind} is not a row-level rule kind")


def re2_pattern(python_regex: str | None) -> str:
    """RE2 pattern matching what ``re.search(python_regex, s)`` matches.

    Python's ``$`` (no MULTILINE) also matches before a final newline; RE2's only at the end.
    Rules use ASCII-only classes, so this is the one difference that matters.
    """
    assert python_regex is not None
    if python_regex.endswith("$") and not python_regex.endswith("\\$"):
        return python_regex[:-1] + r"\n?$"
    return python_regex


def _when(rule: R.Rule, table: pa.Table) -> np.ndarray:
    assert rule.when is not None
    column, value = rule.when
    return _np(pc.equal(table[column], _scalar(value, table[column].type)))


def row_counts(rule: R.Rule, table: pa.Table, mask: np.ndarray) -> Counts:
    """GX-equivalent counts for a row-level rule whose failures are ``mask``."""
    element_count = int(_when(rule, table).sum()) if rule.when else table.num_rows
    unexpected = int(mask.sum())
    return Counts(success=unexpected == 0, unexpected_count=unexpected, element_count=element_count)


def dataset_counts(rule: R.Rule, table: pa.Table) -> Counts:
    """Outcome of a dataset-level rule (table shape, types, uniqueness, late share)."""
    n = table.num_rows
    if rule.kind == R.COLUMNS:
        present = [c for c in table.column_names if c not in R.LINEAGE_COLUMNS]
        ok = set(present) == set(rule.values)
        return Counts(ok, 0 if ok else 1, n, observed=column_diff(present, rule.values))
    if rule.column not in table.column_names:
        return Counts(False, 0, n, observed="column missing")
    col = table[rule.column]
    if rule.kind == R.TYPE:
        ok = col.type == rule.arrow_type
        return Counts(ok, 0 if ok else 1, n, observed=str(col.type))
    if rule.kind == R.UNIQUE:
        if n == 0:
            return Counts(True, 0, 0)
        counts = pc.value_counts(col.drop_null())
        dup = pc.filter(counts.field("counts"), pc.greater(counts.field("counts"), 1))
        unexpected = int(pc.sum(dup).as_py() or 0)
        return Counts(unexpected == 0, unexpected, n)
    if rule.kind == R.BETWEEN:
        mask = row_mask(rule, table)
        unexpected = int(mask.sum())
        nonnull = n - col.null_count
        if nonnull == 0 or rule.mostly is None:
            ok = unexpected == 0
        else:
            ok = (float(nonnull) - float(unexpected)) / float(nonnull) >= rule.mostly
        return Counts(ok, unexpected, n)
    raise ValueError(f"{rule.name}: {rule.kind} is not a dataset-level rule kind")
