"""The validation rules of every feed table, as data, in one place.

A :class:`Rule` is engine-neutral: :mod:`.suites` turns it into a Great Expectations
expectation (the suite of record), :mod:`.precheck` into a vectorised Arrow mask. Both read the
same fields, so a rule is written once and the two engines cannot drift apart silently (the
tests run both on the same defective data and compare row by row).

Most rules follow from the contract (required columns, allowed values, column types,
timestamp columns, key, event time); the table-specific ones (durations, timestamp order,
score ranges) are the ``EXTRA`` table below. Rules are *not* inferred from data.

Day bounds are in the business timezone: the partition day ``d`` is ``[d 00:00, d+1 00:00)``
local time, so around a DST change it lasts 23 or 25 hours. A timestamp is *implausible* when
it is before the plausibility floor (``ValidationConfig.plausible_from``, default 2000-01-01
UTC), or - for the table's event-time column (``queued_at``,
``occurred_at``, ``responded_at``, ``updated_at`` of cases; customers have none) - at/after
the end of the business day *after* the partition day (``d+2 00:00`` local): a row more than
one day ahead of its delivery day cannot be real. The other timestamp columns describe what
happened *after* the event (``ended_at``, ``first_response_at``, ``closed_at``) and may
legitimately trail it by days (an email answered two days later), so their upper bound is
``ValidationConfig.follow_up_days`` (30) after the partition day. A day whose upper bound is
not after the floor (a day before it) has every timestamp implausible: the bound is raised to
the floor, so both engines flag every row (GX errors on a min above the max and would flag
none). Event times outside the partition day but plausible are only *late* (a warning on
their share).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import pyarrow as pa

from outcome_pipeline import calendar
from outcome_pipeline.contracts.feeds import TableContract
from outcome_pipeline.validation.config import DEFAULT_FOLLOW_UP_DAYS, ValidationConfig
from outcome_pipeline.validation.table_rules import EXTRA, TableExtras

Severity = Literal["error", "warning"]
Level = Literal["row", "dataset"]

# --- reason codes (stable: the quarantine table and the tests use them) ------------------
UNKNOWN_VALUE = "unknown_value"
OUT_OF_RANGE = "out_of_range"
IMPOSSIBLE_TIMESTAMP = "impossible_timestamp"
MISSING_KEY = "missing_key"  # also emitted by ingest.conform
MISSING_REQUIRED = "missing_required"  # also emitted by ingest.conform
# Row-level *warnings* (never quarantine a row) and the optional known-ids check.
INVALID_FORMAT = "invalid_format"
UNKNOWN_REFERENCE = "unknown_reference"
REASON_CODES = (
    UNKNOWN_VALUE,
    OUT_OF_RANGE,
    IMPOSSIBLE_TIMESTAMP,
    MISSING_KEY,
    MISSING_REQUIRED,
    INVALID_FORMAT,
    UNKNOWN_REFERENCE,
)

# --- rule kinds ---------------------------------------------------------------------------
NOT_NULL = "not_null"
IN_SET = "in_set"
BETWEEN = "between"
ORDER = "order"  # column >= other (both present)
REGEX = "regex"
UNIQUE = "unique"
COLUMNS = "columns"
TYPE = "type"
# Only in a range's one GX pass (validation/range.py), never a rule of a day:
ORDER_STRICT = "order_strict"  # column > other (both present)
UNIQUE_WITHIN = "unique_within"  # the ``values`` columns together are unique

# Upper bound, in days after the partition day, of timestamps other than the event time.
FOLLOW_UP_DAYS = DEFAULT_FOLLOW_UP_DAYS
# Share of rows whose event time is outside the partition day above which the day warns.
MAX_LATE_SHARE = 0.05
# Deliberately loose: these only *warn*; they catch shifted columns and placeholders
# ("unknown", "withheld", "noreply@invalid"), not RFC edge cases. Surrounding blanks and
# case are normalisation's business (pseudonymisation trims and lower-cases), not errors.
# GX evaluates them with Python ``re`` (pandas falls back to it for ``str.contains``), the
# precheck with RE2 (Arrow). To mean the same in both they use explicit ASCII classes
# (``\s``/``\d`` are Unicode-aware in Python only) and end in ``$``, which the precheck
# rewrites to Python's "end, or before a final newline".
EMAIL_REGEX = r"^[ \t]*[^@ \t\n\r\f\v]+@[^@ \t\n\r\f\v]+\.[^@ \t\n\r\f\v]+[ \t]*$"
PHONE_REGEX = r"^[ \t]*\+?[0-9][0-9 ().\-]{5,22}[0-9][ \t]*$"


@dataclass(frozen=True)
class Rule:
    """One check. ``level="row"`` rules judge single rows; ``"dataset"`` rules judge the day.

    Row-level rules of severity ``error`` quarantine the rows they flag (reason ``code``);
    row-level ``warning`` rules only report them. Dataset-level ``error`` rules fail the day,
    ``warning`` rules never do.
    """

    name: str
    kind: str
    level: Level
    severity: Severity
    code: str | None = None
    column: str | None = None
    other: str | None = None  # ORDER: ``column`` must not be before ``other``
    values: tuple[Any, ...] = ()  # IN_SET allowed values; COLUMNS expected names
    min_value: Any = None
    max_value: Any = None
    strict_max: bool = False
    when: tuple[str, str] | None = None  # only rows where column == value
    regex: str | None = None
    mostly: float | None = None
    type_name: str | None = None  # TYPE: pandas dtype name GX compares against
    arrow_type: pa.DataType | None = None  # TYPE: the contract's Arrow type
    pii: bool = False  # never put this column's values in a message
    what: str = ""  # noun for messages ("email", "known interaction id")
    description: str = ""

    @property
    def columns_used(self) -> tuple[str, ...]:
        cols = [c for c in (self.column, self.other) if c]
        if self.when:
            cols.append(self.when[0])
        return tuple(cols)


# Pipeline bookkeeping next to the contract columns (ingest.conform's ``_source_*``/``_extra``,
# staging's ``source_*``/``extra_fields``/``partition_date``): not validated, not "extra".
LINEAGE_COLUMNS = (
    "_source_file",
    "_source_line",
    "_source_mapping",
    "_extra",
    "source_file",
    "source_line",
    "source_mapping",
    "extra_fields",
    "partition_date",
)


@dataclass(frozen=True)
class DayBounds:
    """UTC instants bounding one business day and its plausible timestamps."""

    start: datetime  # partition day start (inclusive)
    end: datetime  # partition day end (exclusive)
    implausible_from: datetime  # end of the following business day (exclusive bound)
    follow_up_until: datetime  # exclusive bound of the non-event timestamps


def day_bounds(day: date, timezone: str, follow_up_days: int = FOLLOW_UP_DAYS) -> DayBounds:
    """Business-day boundaries in UTC (DST-aware: local midnights, not 24 h steps)."""

    def midnight(d: date) -> datetime:
        return calendar.day_bounds(d, timezone)[0]

    return DayBounds(
        start=midnight(day),
        end=midnight(day + timedelta(1)),
        implausible_from=midnight(day + timedelta(2)),
        follow_up_until=midnight(day + timedelta(1 + follow_up_days)),
    )


def pandas_type_name(t: pa.DataType) -> str:
    """Name GX's ExpectColumnValuesToBeOfType matches for the pandas dtype of ``t``.

    GX compares the dtype's scalar type, so: Arrow string -> ``str`` (pandas 3 string dtype),
    int64 -> ``int64`` (nullable ``Int64``), bool -> ``bool`` (nullable ``boolean``),
    timestamps -> ``Timestamp`` (``datetime64[us, UTC]``).
    """
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_timestamp(t):
        return "Timestamp"
    if pa.types.is_boolean(t):
        return "bool"
    return str(t.to_pandas_dtype().__name__)


def rules_for(
    contract: TableContract,
    day: date,
    timezone: str,
    known_ids: Mapping[str, Iterable[Any] | pa.Array] | None = None,
    cfg: ValidationConfig | None = None,
) -> list[Rule]:
    """Every rule of ``contract`` for partition ``day``: row-level first, then dataset-level."""
    cfg = cfg or ValidationConfig()
    bounds = day_bounds(day, timezone, cfg.follow_up_days)
    rules: list[Rule] = []
    for name in contract.required_columns:
        is_key = name == contract.key
        rules.append(
            Rule(
                name=f"{name}_not_null",
                kind=NOT_NULL,
                level="row",
                severity="error",
                code=MISSING_KEY if is_key else MISSING_REQUIRED,
                column=name,
                description=f"{name} is required",
            )
        )
    for col in contract.columns:
        if col.allowed:
            rules.append(
                Rule(
                    name=f"{col.name}_allowed",
                    kind=IN_SET,
                    level="row",
                    severity="error",
                    code=UNKNOWN_VALUE,
                    column=col.name,
                    values=tuple(col.allowed),
                    pii=col.pii,
                    description=f"{col.name} is one of {', '.join(col.allowed)}",
                )
            )
    extra = EXTRA.get(contract.name, TableExtras())
    if extra.score_ranges:
        score, by, ranges = extra.score_ranges
        for kind_value, (lo, hi) in ranges.items():
            rules.append(
                Rule(
                    name=f"{score}_range_{kind_value}",
                    kind=BETWEEN,
                    level="row",
                    severity="error",
                    code=OUT_OF_RANGE,
                    column=score,
                    min_value=lo,
                    max_value=hi,
                    when=(by, kind_value),
                    description=f"{score} of a {kind_value} survey is in {lo}..{hi}",
                )
            )
    for d in extra.durations:
        rules.append(
            Rule(
                name=f"{d.column}_range",
                kind=BETWEEN,
                level="row",
                severity="error",
                code=OUT_OF_RANGE,
                column=d.column,
                min_value=0,
                max_value=d.max_seconds,
                description=f"{d.column} is in 0..{d.max_seconds} seconds",
            )
        )
    for m in extra.minimums:
        rules.append(
            Rule(
                name=f"{m.column}_non_negative",
                kind=BETWEEN,
                level="row",
                severity="error",
                code=OUT_OF_RANGE,
                column=m.column,
                min_value=m.min_value,
                description=f"{m.column} is at least {m.min_value:g}",
            )
        )
    for col in contract.columns:
        if pa.types.is_timestamp(col.type):
            is_event = col.name == contract.event_time
            upper = max(bounds.implausible_from if is_event else bounds.follow_up_until, cfg.floor)
            horizon = (
                "the end of the business day after the partition day"
                if is_event
                else f"{cfg.follow_up_days} days after the partition day"
            )
            rules.append(
                Rule(
                    name=f"{col.name}_plausible",
                    kind=BETWEEN,
                    level="row",
                    severity="error",
                    code=IMPOSSIBLE_TIMESTAMP,
                    column=col.name,
                    min_value=cfg.floor,
                    max_value=upper,
                    strict_max=True,
                    what=horizon,
                    description=f"{col.name} is from {cfg.plausible_from} up to {horizon}",
                )
            )
    for o in extra.orders:
        rules.append(
            Rule(
                name=f"{o.later}_not_before_{o.earlier}",
                kind=ORDER,
                level="row",
                severity="error",
                code=IMPOSSIBLE_TIMESTAMP,
                column=o.later,
                other=o.earlier,
                description=f"{o.later} is not before {o.earlier}",
            )
        )
    for col in contract.columns:
        lowered = col.name.lower()
        kind = "email" if "email" in lowered else "phone" if "phone" in lowered else None
        if kind and col.pii:
            rules.append(
                Rule(
                    name=f"{col.name}_format",
                    kind=REGEX,
                    level="row",
                    severity="warning",
                    code=INVALID_FORMAT,
                    column=col.name,
                    regex=EMAIL_REGEX if kind == "email" else PHONE_REGEX,
                    pii=True,
                    what=kind,
                    description=f"{col.name} looks like an {kind}"
                    if kind == "email"
                    else f"{col.name} looks like a phone number",
                )
            )
    for column, ids in sorted((known_ids or {}).items()):
        values = ids.to_pylist() if isinstance(ids, pa.Array | pa.ChunkedArray) else list(ids)
        rules.append(
            Rule(
                name=f"{column}_known",
                kind=IN_SET,
                level="row",
                severity="error",
                code=UNKNOWN_REFERENCE,
                column=column,
                values=tuple(sorted({v for v in values if v is not None})),
                pii=True,  # ids of other tables: never echo them
                what=f"known {column}",
                description=f"{column}, when given, is a known id",
            )
        )
    rules += dataset_rules(contract, bounds)
    return rules


def dataset_rules(contract: TableContract, bounds: DayBounds) -> list[Rule]:
    """Rules that decide pass/fail (or warn) for the whole day and never quarantine rows."""
    rules = [
        Rule(
            name="columns_match_contract",
            kind=COLUMNS,
            level="dataset",
            severity="error",
            values=tuple(contract.column_names),
            description="the day has exactly the contract's columns",
        ),
        Rule(
            name=f"{contract.key}_unique",
            kind=UNIQUE,
            level="dataset",
            severity="error",
            column=contract.key,
            description=f"{contract.key} is unique within the day (dedupe worked)",
        ),
    ]
    for col in contract.columns:
        rules.append(
            Rule(
                name=f"{col.name}_type",
                kind=TYPE,
                level="dataset",
                severity="error",
                column=col.name,
                type_name=pandas_type_name(col.type),
                arrow_type=col.type,
                description=f"{col.name} has the contract type {col.type}",
            )
        )
    if contract.event_time is None:  # change sets re-delivering old records: no "late"
        return rules
    rules.append(
        Rule(
            name=f"{contract.event_time}_mostly_in_day",
            kind=BETWEEN,
            level="dataset",
            severity="warning",
            column=contract.event_time,
            min_value=bounds.start,
            max_value=bounds.end,
            strict_max=True,
            mostly=1.0 - MAX_LATE_SHARE,
            description=f"at most {MAX_LATE_SHARE:.0%} of rows are late "
            f"({contract.event_time} outside the partition day)",
        )
    )
    return rules
