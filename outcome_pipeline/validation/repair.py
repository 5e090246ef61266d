"""Clock-skew repair: timestamps out of order by less than the tolerance are put in order.

Two systems stamp one contact: the queue (``queued_at``) and the agent platform
(``answered_at``, ``ended_at``). Their clocks disagree by a second or two, sometimes
minutes, so a contact can be "answered" before it was queued. Within
``ValidationConfig.clock_skew_seconds`` that is skew, not an impossible row: the later column
is set to the earlier one (``answered = max(answered, queued)``, then ``ended = max(ended,
answered)``, ... in the order rules' order), and the row is staged and counted as repaired.
A row with any order broken by more than the tolerance is left as it is, so validation
quarantines it with the original times. The order rules themselves stay strict, so GX and
the pre-check judge the repaired rows alike (both see them in order).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.validation.table_rules import order_pairs


def _us(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Epoch microseconds as float (NaN where missing), for vectorised comparisons."""
    ints = pc.cast(pc.cast(column, pa.timestamp("us", tz="UTC")), pa.int64())
    return np.asarray(ints.to_numpy(zero_copy_only=False), dtype="float64")


def repair_clock_skew(
    table: pa.Table, feed_table: str, tolerance_seconds: int
) -> tuple[pa.Table, int]:
    """``table`` with skews within ``tolerance_seconds`` repaired, and how many rows were.

    Only rows whose every broken order is within the tolerance are repaired; missing times
    break no order. Columns not in ``table`` (or not timestamps) are skipped.
    """
    pairs = [
        (later, earlier)
        for later, earlier in order_pairs(feed_table)
        if later in table.column_names
        and earlier in table.column_names
        and pa.types.is_timestamp(table.schema.field(later).type)
        and pa.types.is_timestamp(table.schema.field(earlier).type)
    ]
    if not pairs or table.num_rows == 0 or tolerance_seconds <= 0:
        return table, 0
    values = {c: _us(table[c]) for pair in pairs for c in pair}
    original = {c: v.copy() for c, v in values.items()}
    tolerance = tolerance_seconds * 1_000_000
    repairable = np.ones(table.num_rows, dtype=bool)
    touched = np.zeros(table.num_rows, dtype=bool)
    for later, earlier in pairs:
        gap = values[earlier] - values[later]  # > 0: later is before earlier
        with np.errstate(invalid="ignore"):
            broken = gap > 0
            repairable &= ~(gap > tolerance)
        touched |= broken
        values[later] = np.where(broken, values[earlier], values[later])
    fix = touched & repairable
    n = int(fix.sum())
    if n == 0:
        return table, 0
    for column in {later for later, _ in pairs}:
        if np.array_equal(values[column], original[column], equal_nan=True):
            continue
        new = np.where(fix, values[column], original[column])
        field = table.schema.field(column)
        mask = np.isnan(new)
        repaired = pa.array(np.where(mask, 0, new).astype("int64"), mask=mask).cast(
            pa.timestamp("us", tz="UTC")
        )
        table = table.set_column(
            table.schema.get_field_index(column), field, repaired.cast(field.type)
        )
    return table, n
