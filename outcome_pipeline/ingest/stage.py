"""Stage one table for one business day: read every file, type, dedupe, account for each row.

Pure: files in, Arrow tables out. The Dagster asset writes what this returns.
Every landed row ends in exactly one of: staged, quarantined (with a reason), or counted as a
duplicate delivery of a staged row — ``rows_read = rows_staged + rows_quarantined +
rows_duplicate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.ingest.conform import LINE, conform
from outcome_pipeline.ingest.landing import LandingFile, list_day_files
from outcome_pipeline.ingest.readers import FILE, read_raw

QUARANTINE_SCHEMA = pa.schema(
    [
        ("partition_date", pa.date32()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("record_key", pa.string()),
        ("reason_code", pa.string()),
        ("message", pa.string()),
        ("raw_record", pa.string()),
    ]
)


@dataclass
class FileReport:
    """What one landing file gave."""

    file: str
    fmt: str
    rows_read: int
    rows_quarantined: int
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)


@dataclass
class StagedDay:
    """One table's rows for one business day, split into staged and quarantined."""

    table: str
    day: date
    staged: pa.Table
    quarantined: pa.Table
    files: list[FileReport]
    rows_read: int
    rows_duplicate: int
    late_rows: int

    @property
    def rows_staged(self) -> int:
        return self.staged.num_rows

    @property
    def rows_quarantined(self) -> int:
        return self.quarantined.num_rows


def staging_schema(contract: TableContract) -> pa.Schema:
    """Staging table layout: partition day, the contract's columns, then lineage."""
    return pa.schema(
        [("partition_date", pa.date32())]
        + [(c.name, c.type) for c in contract.columns]
        + [("source_file", pa.string()), ("source_line", pa.int64())]
    )


def stage_day(root: Path, contract: TableContract, day: date, timezone: str) -> StagedDay:
    """Read, type and dedupe every file of ``contract`` delivered for ``day``."""
    files = list_day_files(root, contract, day)
    typed_parts, reject_parts, reports = [], [], []
    for lf in files:
        typed, rejects, report = _read_one(lf, contract, timezone)
        typed_parts.append(typed)
        reject_parts.append(rejects)
        reports.append(report)
    schema = staging_schema(contract)
    typed_all = pa.concat_tables(typed_parts) if typed_parts else _empty_typed(contract)
    staged, duplicates = _dedupe(typed_all, contract)
    staged = _finish(staged, schema, day)
    quarantined = (
        pa.concat_tables(reject_parts).cast(QUARANTINE_SCHEMA)
        if reject_parts
        else QUARANTINE_SCHEMA.empty_table()
    )
    return StagedDay(
        table=contract.name,
        day=day,
        staged=staged,
        quarantined=quarantined,
        files=reports,
        rows_read=sum(r.rows_read for r in reports),
        rows_duplicate=duplicates,
        late_rows=count_late_rows(staged, contract, day, timezone),
    )


def _empty_typed(contract: TableContract) -> pa.Table:
    schema = pa.schema(
        [(c.name, c.type) for c in contract.columns] + [(LINE, pa.int64()), (FILE, pa.string())]
    )
    return schema.empty_table()


def _read_one(
    lf: LandingFile, contract: TableContract, timezone: str
) -> tuple[pa.Table, pa.Table, FileReport]:
    raw = read_raw(lf.path, contract, lf.fmt)
    result = conform(raw.table, contract, timezone)
    typed = result.table.append_column(
        FILE, pa.array([lf.relative] * result.table.num_rows, pa.string())
    )
    keys = _reject_keys(raw.table, result.rejects[LINE], contract.key)
    rejects = pa.table(
        {
            "partition_date": pa.array([lf.day] * result.rejects.num_rows, pa.date32()),
            "source_file": pa.array([lf.relative] * result.rejects.num_rows, pa.string()),
            "source_line": result.rejects[LINE],
            "record_key": keys,
            "reason_code": result.rejects["reason_code"],
            "message": result.rejects["message"],
            "raw_record": result.rejects["raw_record"],
        }
    )
    malformed = pa.table(
        {
            "partition_date": pa.array([lf.day] * len(raw.malformed), pa.date32()),
            "source_file": pa.array([lf.relative] * len(raw.malformed), pa.string()),
            "source_line": pa.array([m.line for m in raw.malformed], pa.int64()),
            "record_key": pa.nulls(len(raw.malformed), pa.string()),
            "reason_code": pa.array(
                ["bad_encoding" if "UTF-8" in m.error else "malformed_row" for m in raw.malformed],
                pa.string(),
            ),
            "message": pa.array([m.error for m in raw.malformed], pa.string()),
            "raw_record": pa.array([m.text for m in raw.malformed], pa.string()),
        }
    )
    rejects = pa.concat_tables([rejects, malformed]).sort_by("source_line")
    report = FileReport(
        file=lf.relative,
        fmt=lf.fmt,
        rows_read=raw.table.num_rows + len(raw.malformed),
        rows_quarantined=rejects.num_rows,
        missing_columns=raw.missing_columns,
        extra_columns=raw.extra_columns,
    )
    return typed, rejects, report


def _reject_keys(raw: pa.Table, lines: pa.Array, key: str) -> pa.Array:
    if key not in raw.column_names or len(lines) == 0:
        return pa.nulls(len(lines), pa.string())
    idx = pc.index_in(lines, value_set=raw[LINE].combine_chunks())
    return raw[key].combine_chunks().cast(pa.string()).take(idx)


def _dedupe(table: pa.Table, contract: TableContract) -> tuple[pa.Table, int]:
    """Keep the latest delivery of each id (updated_at, then file and line break ties)."""
    if table.num_rows == 0:
        return table, 0
    order = pc.sort_indices(
        table,
        sort_keys=[
            (contract.key, "ascending", "at_start"),
            ("updated_at", "ascending", "at_start"),
            (FILE, "ascending", "at_start"),
            (LINE, "ascending", "at_start"),
        ],
    )
    ordered = table.take(order)
    keys = ordered[contract.key].combine_chunks()
    if len(keys) > 1:
        next_differs = pc.not_equal(keys[1:], keys[:-1]).to_numpy(zero_copy_only=False)
        last_of_key = np.append(next_differs, True)
    else:
        last_of_key = np.ones(len(keys), dtype=bool)
    kept = ordered.filter(pa.array(last_of_key))
    return kept, table.num_rows - kept.num_rows


def _finish(staged: pa.Table, schema: pa.Schema, day: date) -> pa.Table:
    columns = {
        "partition_date": pa.array([day] * staged.num_rows, pa.date32()),
        **{name: staged[name] for name in schema.names if name in staged.column_names},
        "source_file": staged[FILE],
        "source_line": staged[LINE],
    }
    return pa.table(columns).select(schema.names).cast(schema)


def count_late_rows(staged: pa.Table, contract: TableContract, day: date, timezone: str) -> int:
    """Rows whose event time, in business time, falls on another day than the delivery day."""
    if staged.num_rows == 0:
        return 0
    in_business_tz = staged[contract.event_time].cast(pa.timestamp("us", tz=timezone))
    local = pc.cast(pc.local_timestamp(in_business_tz), pa.date32())
    return int(pc.sum(pc.not_equal(local, pa.scalar(day, pa.date32()))).as_py() or 0)


def audit_row(day: StagedDay) -> dict[str, object]:
    """The load_audit row of one staged day."""
    return {
        "partition_date": day.day,
        "feed": day.table,
        "files": len(day.files),
        "rows_read": day.rows_read,
        "rows_duplicate": day.rows_duplicate,
        "rows_staged": day.rows_staged,
        "rows_quarantined": day.rows_quarantined,
        "rows_late": day.late_rows,
    }
