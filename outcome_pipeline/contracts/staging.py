"""Staging and quarantine layouts: what staging writes for every feed table, and where the
rows it does not stage go.

Shared by the ingest (which fills them), the warehouse (whose DDL and data dictionary are
generated from them) and the outcome engine (which reads staged rows): defined here, below
all three, so neither the warehouse nor the outcomes depend on the ingest.
"""

from __future__ import annotations

import pyarrow as pa

from outcome_pipeline.contracts.feeds import TableContract

QUARANTINE_SCHEMA = pa.schema(
    [
        ("partition_date", pa.date32()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("record_key", pa.string()),
        ("reason_code", pa.string()),
        ("message", pa.string()),
        ("raw_record", pa.string()),
        ("run_id", pa.string()),
    ]
)
# Rows read but counted by no outcome day, each with why (``rows_not_counted``): nothing a
# landing file holds disappears without a trace.
NOT_COUNTED_SCHEMA = pa.schema(
    [
        ("partition_date", pa.date32()),
        ("feed", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("record_key", pa.string()),
        ("business_day", pa.date32()),
        ("reason", pa.string()),
    ]
)
# reason -> what happened to the row (the data dictionary's text).
NOT_COUNTED_REASONS = {
    "superseded_delivery": "an older delivery of an id delivered again the same day: the "
    "latest updated_at was staged instead (counted in load_audit.rows_duplicate); not staged",
    "before_start": "an interaction or survey response whose event time falls on a business "
    "day before the first partition (OUTCOME_START_DATE): staged, but no computed day holds "
    "it (interactions of such a day are read only as the repeat context of the first days); "
    "counted in load_audit.rows_before_start. CRM rows before the start are not listed: they "
    "are read as history (versions, case closures, signups, churn)",
}
FILE_QUARANTINE_SCHEMA = pa.schema(
    [
        ("partition_date", pa.date32()),
        ("feed", pa.string()),
        ("source_file", pa.string()),
        ("error", pa.string()),
        ("run_id", pa.string()),
    ]
)


def staging_schema(contract: TableContract) -> pa.Schema:
    """Staging table layout: partition day, the contract's columns, drift, lineage."""
    return pa.schema(
        [("partition_date", pa.date32())]
        + [(c.name, c.type) for c in contract.columns]
        + [
            ("extra_fields", pa.string()),
            ("source_file", pa.string()),
            ("source_line", pa.int64()),
            ("source_mapping", pa.string()),
        ]
    )
