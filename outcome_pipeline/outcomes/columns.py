"""Building blocks of the outcome table definitions: shared columns and phrases.

Terms used in every comment (docs/data_dictionary.md uses the same):

- *contact*: an interaction with its transfer legs collapsed; placed in time by its first
  leg's ``queued_at`` (its start) and in a day by the business day of that start.
- *W*: the repeat window (``OutcomeConfig.repeat_window_days``, default 7 days), measured
  between contact starts.
- *identified*: the contact has a customer key; anonymous contacts have none and are left out
  of every outcome numerator and denominator (they are counted in outputs and in
  ``anonymous_contacts``).
- *window closed*: for a contact, its start + W <= as_of; for a journey, its last contact's
  start + W <= as_of (the journey has ended).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from outcome_pipeline.contracts.feeds import TS
from outcome_pipeline.warehouse.tables import ColumnDef, TableDef

I64 = pa.int64()
F64 = pa.float64()
STR = pa.string()
BOOL = pa.bool_()
DATE = pa.date32()

W = "W (the repeat window, default 7 days)"
DIMS_NOTE = (
    "Missing queue/team are 'unassigned'; a customer the CRM does not know has segment 'unknown'."
)


def col(name: str, type_: pa.DataType, comment: str) -> ColumnDef:
    return ColumnDef(name, type_, comment)


def count(name: str, comment: str) -> ColumnDef:
    return ColumnDef(name, I64, comment)


@dataclass(frozen=True)
class RateColumn(ColumnDef):
    """A ratio column whose numerator and denominator are columns of the same row."""

    numerator: str = ""
    denominator: str = ""


def rate(name: str, numerator: str, denominator: str, extra: str = "") -> RateColumn:
    text = f"{numerator} / {denominator}; NULL when the denominator is 0."
    return RateColumn(name, F64, f"{text} {extra}".strip(), numerator, denominator)


def rate_parts(table: TableDef) -> dict[str, tuple[str, str]]:
    """{rate column: (numerator column, denominator column)} of a table."""
    return {
        c.name: (c.numerator, c.denominator) for c in table.columns if isinstance(c, RateColumn)
    }


def as_of() -> ColumnDef:
    return col(
        "as_of",
        TS,
        "The knowledge time the row was computed for (the run's as_of, never the wall clock): "
        "contacts, surveys and events after it are unknown to the row.",
    )


def partition(meaning: str) -> ColumnDef:
    return col("partition_date", DATE, f"Business day the row belongs to: {meaning}.")


def dims(channel: str, queue_team: str) -> tuple[ColumnDef, ...]:
    return (
        col("channel", STR, f"Channel {channel}."),
        col("queue", STR, f"Queue {queue_team}; 'unassigned' when missing."),
        col("team", STR, f"Team {queue_team}; 'unassigned' when missing."),
        col(
            "segment",
            STR,
            "Customer segment from the CRM version valid at the contact's start; 'unknown' "
            "when the customer is not a CRM customer (pseudonymous or anonymous).",
        ),
    )
