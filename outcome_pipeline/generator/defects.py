"""Known defects injected into a day's CSV / JSON-lines rows, one per defective row.

Each defect is recorded (file, line, kind, key, column, detail) so the pipeline's quarantine
can be checked row by row. Defects never touch Parquet files (a typed file cannot hold
``"12s"`` in an int column) and never touch duplicated ids, so "which copy is defective" is
never ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from outcome_pipeline.contracts.feeds import SURVEY_SCORE_RANGES, TableContract
from outcome_pipeline.generator.timeutil import from_timestamp, iso_strings
from outcome_pipeline.generator.writers import BAD_UTF8_MARK

BAD_TYPE = "bad_type"
MISSING_KEY = "missing_key"
IMPOSSIBLE_TS = "impossible_timestamp"
UNKNOWN_CHANNEL = "unknown_channel"
BAD_ENCODING = "bad_encoding"
OUT_OF_RANGE = "out_of_range"
KINDS = (BAD_TYPE, MISSING_KEY, IMPOSSIBLE_TS, UNKNOWN_CHANNEL, BAD_ENCODING, OUT_OF_RANGE)
TABLE_KINDS: dict[str, tuple[str, ...]] = {
    "interactions": KINDS,
    "customers": (BAD_TYPE, MISSING_KEY, IMPOSSIBLE_TS, BAD_ENCODING, OUT_OF_RANGE),
    "cases": (MISSING_KEY, IMPOSSIBLE_TS),
    "subscription_events": (BAD_TYPE, MISSING_KEY, IMPOSSIBLE_TS, BAD_ENCODING, OUT_OF_RANGE),
    "survey_responses": (BAD_TYPE, MISSING_KEY, IMPOSSIBLE_TS, BAD_ENCODING, OUT_OF_RANGE),
}
# Columns a missing_key defect empties (the natural key first, most often).
MISSING = {
    "interactions": (("interaction_id", 0.6), ("queued_at", 0.2), ("channel", 0.2)),
    "customers": (("customer_id", 0.7), ("created_at", 0.3)),
    "cases": (("case_id", 0.6), ("customer_id", 0.4)),
    "subscription_events": (("event_id", 0.5), ("customer_id", 0.25), ("occurred_at", 0.25)),
    "survey_responses": (("response_id", 0.5), ("score", 0.25), ("sent_at", 0.25)),
}
BAD_TYPE_VALUES = {
    "interactions": (
        ("talk_seconds", "12s"),
        ("hold_seconds", "lots"),
        ("acw_seconds", "4m30"),
        ("abandoned", "maybe"),
    ),
    "customers": (("mrr", "49.99GBP"), ("mrr", "twelve")),
    "subscription_events": (("mrr_after", "zero"), ("mrr_before", "39,00")),
    "survey_responses": (("score", "five"), ("score", "4 stars")),
}
UNPARSEABLE = ("2024-13-45T99:00:00Z", "2023-02-30T25:61:00Z", "31/04/2024 10:00")
ENCODING_COLUMN = {
    "interactions": "queue",
    "customers": "region",
    "subscription_events": "customer_id",
    "survey_responses": "comment",
}
# Where an out_of_range defect writes a negative number (surveys get a score out of range).
NEGATIVE_COLUMN = {
    "interactions": "talk_seconds",
    "customers": "mrr",
    "subscription_events": "mrr_before",
}
UNKNOWN_CHANNELS = ("fax", "pager", "telex", "carrier_pigeon")
# (column that moves before another, the column it must not precede, detail)
ORDER_BREAKS = {
    "interactions": (
        ("ended_at", "queued_at", "ended_before_queued"),
        ("answered_at", "queued_at", "answered_before_queued"),
    ),
    "cases": (("closed_at", "opened_at", "closed_before_opened"),),
    "survey_responses": (("responded_at", "sent_at", "responded_before_sent"),),
}
UNPARSEABLE_COLUMN = {
    "interactions": "queued_at",
    "customers": "created_at",
    "cases": "opened_at",
    "subscription_events": "occurred_at",
    "survey_responses": "responded_at",
}


@dataclass
class Defect:
    """One injected defect at ``row`` of the day's table (position fixed later)."""

    row: int
    column: str
    value: object
    kind: str
    detail: str
    key: str | None


def _iso(seconds: int) -> str:
    return iso_strings(np.array([seconds], dtype=np.int64))[0].as_py()


def _value(table: pa.Table, column: str, row: int) -> object:
    return table.column(column)[row].as_py()


def _seconds(table: pa.Table, column: str, row: int) -> int:
    return int(from_timestamp(table.column(column).slice(row, 1))[0])


def _one(
    rng: np.random.Generator, contract: TableContract, table: pa.Table, row: int, kind: str
) -> Defect:
    """Build the defect of ``kind`` for ``row``; the row must be eligible for it."""
    name = contract.name
    key = _value(table, contract.key, row)
    if kind == BAD_TYPE:
        column, raw = BAD_TYPE_VALUES[name][rng.integers(len(BAD_TYPE_VALUES[name]))]
        detail = "non_boolean" if column == "abandoned" else "non_numeric"
        return Defect(row, column, raw, kind, detail, key)
    if kind == MISSING_KEY:
        cols, p = zip(*MISSING[name], strict=True)
        column = cols[rng.choice(len(cols), p=np.array(p))]
        detail = "null_key" if column == contract.key else "null_required"
        return Defect(row, column, None, kind, detail, None if column == contract.key else key)
    if kind == IMPOSSIBLE_TS:
        for late, early, detail in ORDER_BREAKS.get(name, ()):
            if _value(table, late, row) is not None and rng.random() < 0.7:
                # Beyond the default clock-skew tolerance (120 s): an impossible row, not skew.
                t = _seconds(table, early, row) - int(rng.integers(600, 4 * 3600))
                return Defect(row, late, _iso(t), kind, detail, key)
        raw = UNPARSEABLE[rng.integers(len(UNPARSEABLE))]
        return Defect(row, UNPARSEABLE_COLUMN[name], raw, kind, "unparseable", key)
    if kind == UNKNOWN_CHANNEL:
        raw = UNKNOWN_CHANNELS[rng.integers(len(UNKNOWN_CHANNELS))]
        return Defect(row, "channel", raw, kind, "not_in_allowed_values", key)
    if kind == BAD_ENCODING:
        column = ENCODING_COLUMN[name]
        text = _value(table, column, row) or "Great service"
        return Defect(row, column, text[:3] + BAD_UTF8_MARK + text[3:], kind, "invalid_utf8", key)
    if kind == OUT_OF_RANGE:
        if name == "survey_responses":
            low, high = SURVEY_SCORE_RANGES[_value(table, "survey_type", row)]
            above = rng.random() < 0.7
            raw = high + int(rng.integers(1, 4)) if above else low - int(rng.integers(1, 3))
            return Defect(
                row, "score", raw, kind, "score_above_range" if above else "score_below_range", key
            )
        column = NEGATIVE_COLUMN[name]
        current = _value(table, column, row) or 1
        detail = "negative_duration" if name == "interactions" else "negative_amount"
        return Defect(row, column, -abs(current) - 1, kind, detail, key)
    raise ValueError(kind)


def _eligible(
    contract: TableContract, table: pa.Table, kind: str, is_csv: np.ndarray
) -> np.ndarray:
    n = table.num_rows
    if kind == BAD_ENCODING:
        return is_csv
    if kind == OUT_OF_RANGE and contract.name != "survey_responses":
        column = NEGATIVE_COLUMN[contract.name]
        return table.column(column).is_valid().to_numpy(zero_copy_only=False)
    return np.ones(n, dtype=bool)


def choose_defects(
    rng: np.random.Generator,
    contract: TableContract,
    table: pa.Table,
    candidate: np.ndarray,
    is_csv: np.ndarray,
    rate: float,
) -> list[Defect]:
    """About ``rate`` of the day's rows get one defect; every kind appears when possible."""
    kinds = TABLE_KINDS[contract.name]
    if rate <= 0 or not candidate.any():
        return []
    n_cand = int(candidate.sum())
    n = int(rng.binomial(table.num_rows, rate))
    # Every kind is forced in only where that stays a small share of the day (<= 4 %): a
    # small day (a quiet CRM day) must not cross the quarantine threshold by the forcing alone.
    if n_cand >= 25 * len(kinds):
        n = max(n, len(kinds))
    n = min(n, n_cand // 2)
    if n == 0:
        return []
    # Every kind once (when there are enough defects), the rest spread at random.
    plan = np.concatenate(
        [rng.permutation(len(kinds))[:n], rng.integers(0, len(kinds), max(0, n - len(kinds)))]
    )
    counts = np.bincount(plan, minlength=len(kinds))
    free = candidate.copy()
    picked: list[tuple[int, str]] = []
    # Kinds that only some rows can carry choose first.
    for i in sorted(range(len(kinds)), key=lambda i: kinds[i] not in (BAD_ENCODING, OUT_OF_RANGE)):
        pool = np.flatnonzero(free & _eligible(contract, table, kinds[i], is_csv))
        rows = rng.choice(pool, min(int(counts[i]), len(pool)), replace=False)
        free[rows] = False
        picked += [(int(r), kinds[i]) for r in rows]
    return [_one(rng, contract, table, row, kind) for row, kind in sorted(picked)]
