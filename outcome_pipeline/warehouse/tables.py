"""Table definitions: one place that says every warehouse table's columns and meaning.

DDL (both dialects), column comments and the data dictionary are generated from these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from outcome_pipeline.contracts import CONTRACTS, TableContract
from outcome_pipeline.contracts.staging import (
    FILE_QUARANTINE_SCHEMA,
    NOT_COUNTED_REASONS,
    NOT_COUNTED_SCHEMA,
    QUARANTINE_SCHEMA,
    staging_schema,
)

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_identifier(name: str) -> str:
    """Allow only plain lower-case SQL identifiers; anything else is refused, never quoted in."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not an allowed SQL identifier: {name!r} (use [a-z_][a-z0-9_]*)")
    return name


@dataclass(frozen=True)
class ColumnDef:
    name: str
    type: pa.DataType
    comment: str


@dataclass(frozen=True)
class TableDef:
    """A warehouse table: name, grain (table comment), columns, partition column."""

    name: str
    comment: str
    columns: tuple[ColumnDef, ...]
    partition_column: str | None = "partition_date"
    order_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_identifier(self.name)
        for c in self.columns:
            check_identifier(c.name)

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(c.name, c.type) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


_PARTITION = "Business day (in the business timezone) the rows were delivered for; "
_LINEAGE = {
    "partition_date": _PARTITION + "the Dagster partition key.",
    "source_file": "Landing file the row came from, relative to the landing root.",
    "source_line": "1-based line of the row in its file (CSV header = line 1; Parquet: row).",
    "source_mapping": "Source mapping (name@version, docs/sources/) the row was read through; "
    "empty when the native contract reader read it.",
    "extra_fields": "Columns the file had beyond its contract, as a JSON object (schema drift: "
    "kept and reported, not fatal); empty when the file matched its contract.",
    "run_id": "Dagster run that wrote the row (audit column; differs between reruns).",
}


def staging_table(contract: TableContract) -> TableDef:
    described = {c.name: c.description for c in contract.columns}
    schema = staging_schema(contract)
    return TableDef(
        name=contract.staging_table,
        comment=f"{contract.description} Grain: {contract.grain}. "
        f"Deduplicated per delivery day on {contract.key} (latest updated_at wins).",
        columns=tuple(
            ColumnDef(f.name, f.type, described.get(f.name) or _LINEAGE[f.name]) for f in schema
        ),
        order_by=(contract.key,),
    )


def quarantine_table(contract: TableContract) -> TableDef:
    comments = {
        **_LINEAGE,
        "record_key": f"The row's {contract.key} when it could be read.",
        "reason_code": "Comma-separated reason codes (bad_type, missing_required, "
        "malformed_row, bad_encoding, ...).",
        "message": "Readable explanation of every failed rule.",
        "raw_record": "The row as delivered (JSON text); may hold raw PII: restrict access.",
        "run_id": _LINEAGE["run_id"],
    }
    return TableDef(
        name=f"quarantine_{contract.name}",
        comment=f"Rows of {contract.name} that could not be staged, one row per rejected "
        "landing row, with why.",
        columns=tuple(ColumnDef(f.name, f.type, comments[f.name]) for f in QUARANTINE_SCHEMA),
        order_by=("source_file", "source_line"),
    )


QUARANTINE_FILES = TableDef(
    name="quarantine_files",
    comment="Landing files not read, one row per file and day: unreadable (not the format "
    "they claim, a required column missing or a column named twice) or not a feed file "
    "(unknown name, unsupported compression, subfolder, bad day folder, link out of the "
    "landing root, duplicate link).",
    columns=tuple(
        ColumnDef(f.name, f.type, c)
        for f, c in zip(
            FILE_QUARANTINE_SCHEMA,
            (
                _LINEAGE["partition_date"],
                "Feed table the file was delivered for.",
                _LINEAGE["source_file"],
                "Reason code, then why the file was not read (names the file and, if any, "
                "the column).",
                _LINEAGE["run_id"],
            ),
            strict=True,
        )
    ),
    order_by=("feed", "source_file"),
)

LOAD_AUDIT = TableDef(
    name="load_audit",
    comment="Row accounting per feed table and partition: "
    "rows_read = rows_staged + rows_quarantined + rows_duplicate.",
    columns=(
        ColumnDef("partition_date", pa.date32(), _LINEAGE["partition_date"]),
        ColumnDef("feed", pa.string(), "Feed table (interactions, customers, ...)."),
        ColumnDef("files", pa.int64(), "Landing files delivered for the day."),
        ColumnDef("files_quarantined", pa.int64(), "Files that could not be read at all."),
        ColumnDef("rows_read", pa.int64(), "Rows found in the day's files."),
        ColumnDef("rows_duplicate", pa.int64(), "Extra deliveries of an id (older copies)."),
        ColumnDef("rows_staged", pa.int64(), "Rows written to the staging table."),
        ColumnDef("rows_quarantined", pa.int64(), "Rows written to the quarantine table."),
        ColumnDef("rows_late", pa.int64(), "Staged rows whose event time is on another day."),
        ColumnDef(
            "rows_repaired",
            pa.int64(),
            "Staged rows whose timestamps were out of order by at most the clock-skew "
            "tolerance (OUTCOME_CLOCK_SKEW_SECONDS) and were put in order.",
        ),
        ColumnDef(
            "rows_before_start",
            pa.int64(),
            "Staged rows whose event time falls on a business day before the first partition "
            "(OUTCOME_START_DATE): kept in staging, counted in no outcome table (each "
            "listed in rows_not_counted).",
        ),
    ),
    order_by=("feed",),
)

ROWS_NOT_COUNTED = TableDef(
    name="rows_not_counted",
    comment="Landing rows that were read but that no outcome day counts, one row per landing "
    "row, with why: with the staging and quarantine tables, every row of every readable "
    "landing file is somewhere (quarantine_files holds the unreadable files).",
    columns=tuple(
        ColumnDef(f.name, f.type, c)
        for f, c in zip(
            NOT_COUNTED_SCHEMA,
            (
                _LINEAGE["partition_date"],
                "Feed table the row was delivered for (interactions, customers, ...).",
                _LINEAGE["source_file"],
                _LINEAGE["source_line"],
                "The row's natural key (interaction_id, customer_id, ...).",
                "Business day of the row's event time (business timezone); empty for a feed "
                "without one (customers).",
                "Why no outcome day counts the row: "
                + "; ".join(f"{k}: {v}" for k, v in NOT_COUNTED_REASONS.items())
                + ".",
            ),
            strict=True,
        )
    ),
    order_by=("feed", "source_file", "source_line"),
)

STAGING_TABLES = {name: staging_table(c) for name, c in CONTRACTS.items()}
QUARANTINE_TABLES = {name: quarantine_table(c) for name, c in CONTRACTS.items()}
ALL_TABLES: tuple[TableDef, ...] = (
    *STAGING_TABLES.values(),
    *QUARANTINE_TABLES.values(),
    QUARANTINE_FILES,
    LOAD_AUDIT,
    ROWS_NOT_COUNTED,
)


# At-least-once delivery: of the rows sharing a key the latest delivery wins. The same order
# ranks re-deliveries in the outcome session (the redelivered_latest macro, sql/macros.sql;
# a test keeps the two equal).
LATEST_DELIVERY_ORDER = "updated_at DESC, partition_date DESC, source_file DESC, source_line DESC"


def current_state_views() -> dict[str, str]:
    """Views over change-set tables: latest delivered version per id (portable SQL)."""
    views = {}
    for name in ("customers", "cases"):
        contract = CONTRACTS[name]
        cols = ", ".join(f'"{c}"' for c in STAGING_TABLES[name].column_names)
        views[f"stg_{name}_current"] = (
            f'SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY "{contract.key}" '
            f"ORDER BY {LATEST_DELIVERY_ORDER}) AS rn "
            'FROM {schema}."' + f'stg_{name}") latest WHERE rn = 1'
        )
    return views
