"""Finish one table-day after validation: quarantine the failing rows, stage the rest, and
account for every row read (late, before the start, not counted, the load_audit row).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.contracts.staging import (
    FILE_QUARANTINE_SCHEMA,
    NOT_COUNTED_SCHEMA,
    QUARANTINE_SCHEMA,
    staging_schema,
)
from outcome_pipeline.ingest.conform import EXTRA, LINE
from outcome_pipeline.ingest.raw_file import FILE
from outcome_pipeline.ingest.stage_file import MAPPING, FileReport, rejects_table
from outcome_pipeline.ingest.stage_read import ReadDay
from outcome_pipeline.outcomes.config import HISTORY_INPUTS


@dataclass
class StagedDay:
    """One table's rows for one business day, split into staged and quarantined."""

    table: str
    day: date
    staged: pa.Table
    quarantined: pa.Table
    rejected_files: pa.Table
    files: list[FileReport]
    rows_read: int
    rows_duplicate: int
    rows_staged: int
    late_rows: int
    # Staged rows whose timestamps were put in order (clock skew within the tolerance).
    rows_repaired: int = 0
    # Staged rows whose event time falls on a business day before the first partition: in
    # staging, but in no outcome table (no computed day holds them).
    rows_before_start: int = 0
    # Rows read but counted by no outcome day, with why (NOT_COUNTED_SCHEMA).
    not_counted: pa.Table = field(default_factory=NOT_COUNTED_SCHEMA.empty_table)

    @property
    def rows_quarantined(self) -> int:
        return self.quarantined.num_rows

    @property
    def files_quarantined(self) -> int:
        return self.rejected_files.num_rows


def finish_day(
    read: ReadDay,
    failures: dict[int, list[tuple[str, str]]] | None,
    first_day: date | None = None,
) -> StagedDay:
    """The steps of :func:`stage_day` after validation: rows with ``failures`` (a row
    validator's answer for ``read.latest``; None: not validated) to quarantine, the rest
    staged, the day's accounting."""
    contract, day, run_id = read.contract, read.day, read.run_id
    latest, reject_parts = read.latest, list(read.reject_parts)
    if failures is not None and latest.num_rows:
        latest, invalid = _apply_failures(latest, contract, failures)
        reject_parts.append(invalid)
    staged = _finish(latest, staging_schema(contract), day)
    quarantined = pa.concat_tables(
        [_with_run_id(r, day, run_id) for r in reject_parts] or [QUARANTINE_SCHEMA.empty_table()]
    ).sort_by([("source_file", "ascending"), ("source_line", "ascending")])
    return StagedDay(
        table=contract.name,
        day=day,
        staged=staged,
        quarantined=quarantined,
        rejected_files=pa.Table.from_pylist(
            sorted(read.bad_files, key=lambda f: f["source_file"]), schema=FILE_QUARANTINE_SCHEMA
        ),
        files=read.reports,
        rows_read=sum(r.rows_read for r in read.reports),
        rows_duplicate=read.superseded.num_rows,
        rows_staged=staged.num_rows,
        late_rows=count_late_rows(staged, contract, day, read.timezone),
        rows_repaired=read.repaired,
        rows_before_start=count_rows_before(staged, contract, first_day, read.timezone),
        not_counted=not_counted_rows(
            read.superseded, staged, contract, day, first_day, read.timezone
        ),
    )


def _with_run_id(rejects: pa.Table, day: date, run_id: str) -> pa.Table:
    n = rejects.num_rows
    return pa.table(
        {
            "partition_date": pa.array([day] * n, pa.date32()),
            **{name: rejects[name] for name in QUARANTINE_SCHEMA.names[1:-1]},
            "run_id": pa.array([run_id] * n, pa.string()),
        },
        schema=QUARANTINE_SCHEMA,
    )


def _apply_failures(
    rows: pa.Table, contract: TableContract, failures: dict[int, list[tuple[str, str]]]
) -> tuple[pa.Table, pa.Table]:
    """Split rows into those passing every row-level rule and quarantine rows with reasons."""
    idx = np.array(sorted(failures), dtype=np.int64)
    bad = rows.take(pa.array(idx))
    keep = np.ones(rows.num_rows, dtype=bool)
    keep[idx] = False
    reasons = [failures[int(i)] for i in idx]
    visible = bad.drop_columns([c for c in bad.column_names if c.startswith("_")])
    raw = [json.dumps(r, default=str, ensure_ascii=False) for r in visible.to_pylist()]
    invalid = rejects_table(
        bad[FILE].combine_chunks(),
        bad[LINE].combine_chunks(),
        bad[contract.key].combine_chunks().cast(pa.string()),
        [",".join(sorted({code for code, _ in r})) for r in reasons],
        ["; ".join(f"{code}: {msg}" for code, msg in r) for r in reasons],
        raw,
    )
    return rows.filter(pa.array(keep)), invalid


def _finish(staged: pa.Table, schema: pa.Schema, day: date) -> pa.Table:
    columns = {
        "partition_date": pa.array([day] * staged.num_rows, pa.date32()),
        **{name: staged[name] for name in schema.names if name in staged.column_names},
        "extra_fields": staged[EXTRA],
        "source_file": staged[FILE],
        "source_line": staged[LINE],
        "source_mapping": staged[MAPPING],
    }
    return pa.table(columns).select(schema.names).cast(schema)


def count_late_rows(staged: pa.Table, contract: TableContract, day: date, timezone: str) -> int:
    """Rows whose event time, in business time, falls on another day than the delivery day."""
    if staged.num_rows == 0 or contract.event_time is None:
        return 0
    in_business_tz = staged[contract.event_time].cast(pa.timestamp("us", tz=timezone))
    local = pc.cast(pc.local_timestamp(in_business_tz), pa.date32())
    return int(pc.sum(pc.not_equal(local, pa.scalar(day, pa.date32()))).as_py() or 0)


def count_rows_before(
    staged: pa.Table, contract: TableContract, first_day: date | None, timezone: str
) -> int:
    """Rows whose event time, in business time, falls on a day before ``first_day``."""
    if first_day is None or staged.num_rows == 0 or contract.event_time is None:
        return 0
    in_business_tz = staged[contract.event_time].cast(pa.timestamp("us", tz=timezone))
    local = pc.cast(pc.local_timestamp(in_business_tz), pa.date32())
    return int(pc.sum(pc.less(local, pa.scalar(first_day, pa.date32()))).as_py() or 0)


def _business_days(rows: pa.Table, contract: TableContract, timezone: str) -> pa.Array:
    """The business day of each row's event time (null for a feed without one)."""
    if contract.event_time is None:
        return pa.nulls(rows.num_rows, pa.date32())
    in_business_tz = rows[contract.event_time].cast(pa.timestamp("us", tz=timezone))
    return pc.cast(pc.local_timestamp(in_business_tz), pa.date32())


def not_counted_rows(
    superseded: pa.Table,
    staged: pa.Table,
    contract: TableContract,
    day: date,
    first_day: date | None,
    timezone: str,
) -> pa.Table:
    """The ``rows_not_counted`` rows of one staged day: superseded deliveries (typed rows,
    with lineage columns) and staged event rows before the first partition, with why."""
    parts = []
    if superseded.num_rows:
        parts.append(
            {
                "source_file": superseded[FILE],
                "source_line": superseded[LINE],
                "record_key": superseded[contract.key],
                "business_day": _business_days(superseded, contract, timezone),
                "reason": "superseded_delivery",
            }
        )
    history = contract.name in HISTORY_INPUTS
    if first_day is not None and staged.num_rows and contract.event_time and not history:
        local = _business_days(staged, contract, timezone)
        early = staged.filter(pc.less(local, pa.scalar(first_day, pa.date32())))
        parts.append(
            {
                "source_file": early["source_file"],
                "source_line": early["source_line"],
                "record_key": early[contract.key],
                "business_day": _business_days(early, contract, timezone),
                "reason": "before_start",
            }
        )
    tables = []
    for part in parts:
        n = len(part["source_file"])
        tables.append(
            pa.table(
                {
                    "partition_date": pa.array([day] * n, pa.date32()),
                    "feed": pa.array([contract.name] * n, pa.string()),
                    **{k: v for k, v in part.items() if k != "reason"},
                    "reason": pa.array([part["reason"]] * n, pa.string()),
                }
            ).cast(NOT_COUNTED_SCHEMA)
        )
    if not tables:
        return NOT_COUNTED_SCHEMA.empty_table()
    return pa.concat_tables(tables).sort_by(
        [("source_file", "ascending"), ("source_line", "ascending")]
    )


def audit_row(day: StagedDay) -> dict[str, object]:
    """The load_audit row of one staged day."""
    return {
        "partition_date": day.day,
        "feed": day.table,
        "files": len(day.files) + day.files_quarantined,
        "files_quarantined": day.files_quarantined,
        "rows_read": day.rows_read,
        "rows_duplicate": day.rows_duplicate,
        "rows_staged": day.rows_staged,
        "rows_quarantined": day.rows_quarantined,
        "rows_late": day.late_rows,
        "rows_repaired": day.rows_repaired,
        "rows_before_start": day.rows_before_start,
    }
