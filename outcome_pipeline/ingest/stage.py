"""Stage one table for one business day: read every file, type, dedupe, account for each row.

Pure: files in, Arrow tables out. The Dagster asset writes what this returns.
Every row of a readable file ends in exactly one of: staged, quarantined (with a reason), or
counted as an older delivery of a staged id — ``rows_read = rows_staged + rows_quarantined +
rows_duplicate``. A file that cannot be read at all is quarantined as a file, with its error;
so is every file under the feed's folder that discovery does not read (an unknown name, a
subfolder, a link out of the landing root, ...): ``quarantine_files.error`` starts with a
reason code, and every such file fails the blocking ``load_ok`` check.

Order of the steps, and why: type (a value that is not of its type cannot be compared), then
dedupe (the latest delivery of an id is the truth, so it is the one that is validated), then
validate (rows failing a row-level rule go to quarantine with every failed rule).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

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
from outcome_pipeline.ingest.conform import EXTRA, LINE, conform
from outcome_pipeline.ingest.landing import LandingFile, discover_day
from outcome_pipeline.ingest.mapping import CompiledMapping, MappedDay, map_day
from outcome_pipeline.ingest.native import MAPPING as VIA_MAPPING
from outcome_pipeline.ingest.native import identity_lineage, native_ingest_mode, read_raw_mapped
from outcome_pipeline.ingest.readers import FILE, LandingFileError, read_raw
from outcome_pipeline.outcomes.config import HISTORY_INPUTS
from outcome_pipeline.validation.repair import repair_clock_skew

# Lineage of a typed row: the source mapping (name@version) it came through; null when the
# native contract reader read it.
MAPPING = "_source_mapping"

# A row-level validator: typed, deduplicated rows in; per failing row index, its reasons out
# as (reason_code, message) pairs. The validation layer provides it (Great Expectations).
RowValidator = Callable[[pa.Table, TableContract, date], dict[int, list[tuple[str, str]]]]


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


def stage_day(
    root: Path,
    contract: TableContract,
    day: date,
    timezone: str,
    run_id: str = "",
    validator: RowValidator | None = None,
    clock_skew_seconds: int = 0,
    first_day: date | None = None,
    mappings: Sequence[CompiledMapping] = (),
    native_ingest: str | None = None,
) -> StagedDay:
    """Read, type, dedupe and validate every file of ``contract`` delivered for ``day``.

    Before validation, timestamps out of order by at most ``clock_skew_seconds`` are put in
    order (:func:`~outcome_pipeline.validation.repair.repair_clock_skew`); those rows are
    staged and counted in ``rows_repaired``. ``first_day``: the first partition; staged rows
    whose event time is on an earlier business day are counted in ``rows_before_start``.

    ``mappings`` are source mappings onto this contract: their files are read by their own
    query and join the native rows before the dedupe, so one rule applies to both.
    ``native_ingest``: which reader reads the native contract files (``reader`` or
    ``mapping``: their identity mappings through the mapping engine); default the
    ``OUTCOME_NATIVE_INGEST`` setting (:mod:`outcome_pipeline.ingest.native`).

    The same as :func:`read_day` then :func:`finish_day` (a range validates its days' rows
    together between the two).
    """
    read = read_day(
        root, contract, day, timezone, run_id, clock_skew_seconds, mappings, native_ingest
    )
    failures = None
    if validator is not None and read.latest.num_rows:
        failures = validator(read.latest, contract, day)
    return finish_day(read, failures, first_day)


@dataclass
class ReadDay:
    """One table-day read, typed, deduplicated and repaired: the rows to validate
    (``latest``), and what staging needs afterwards."""

    contract: TableContract
    day: date
    timezone: str
    run_id: str
    latest: pa.Table
    reject_parts: list[pa.Table]
    reports: list[FileReport]
    bad_files: list[dict[str, object]]
    # Older deliveries of an id delivered again the same day (typed rows, with lineage).
    superseded: pa.Table
    repaired: int


def read_day(
    root: Path,
    contract: TableContract,
    day: date,
    timezone: str,
    run_id: str = "",
    clock_skew_seconds: int = 0,
    mappings: Sequence[CompiledMapping] = (),
    native_ingest: str | None = None,
) -> ReadDay:
    """The steps of :func:`stage_day` before validation."""
    via_mapping = native_ingest_mode(native_ingest) == VIA_MAPPING
    typed_parts, reject_parts, reports, bad_files = [], [], [], []
    listing = discover_day(root, contract.feed, day).for_table(contract.name)

    def lost(relative: str, error: str) -> None:
        bad_files.append(
            {
                "partition_date": day,
                "feed": contract.name,
                "source_file": relative,
                "error": error,
                "run_id": run_id,
            }
        )

    mapped = [map_day(root, m, day) for m in mappings]
    # A file a mapping reads is not the native reader's (nor a stray of its folder).
    claimed = {f for md in mapped for f in md.relative_files}
    for md in mapped:
        _add_mapped(md, day, contract, run_id, typed_parts, reject_parts, reports, bad_files)
    for skipped in listing.skipped:
        if skipped.relative not in claimed:
            lost(skipped.relative, skipped.error)
    for lf in listing.files:
        if lf.relative in claimed:
            continue
        try:
            typed, rejects, report = _read_one(lf, contract, timezone, via_mapping)
        except LandingFileError as exc:
            lost(lf.relative, f"{exc.reason}: " + str(exc).replace(str(lf.path), lf.relative))
            continue
        typed_parts.append(typed)
        reject_parts.append(rejects)
        reports.append(report)
    typed_all = pa.concat_tables(typed_parts) if typed_parts else _empty_typed(contract)
    latest, superseded = _dedupe(typed_all, contract)
    latest, repaired = repair_clock_skew(latest, contract.name, clock_skew_seconds)
    return ReadDay(
        contract,
        day,
        timezone,
        run_id,
        latest,
        reject_parts,
        reports,
        bad_files,
        superseded,
        repaired,
    )


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


def _add_mapped(
    md: MappedDay,
    day: date,
    contract: TableContract,
    run_id: str,
    typed_parts: list[pa.Table],
    reject_parts: list[pa.Table],
    reports: list[FileReport],
    bad_files: list[dict[str, object]],
) -> None:
    lineage = pa.array([md.mapping.lineage] * md.typed.num_rows, pa.string())
    typed_parts.append(md.typed.append_column(MAPPING, lineage))
    reject_parts.append(md.rejects)
    fmt = f"{md.mapping.fmt} via {md.mapping.lineage}"
    reports.extend(FileReport(f.file, fmt, f.rows_read, f.rows_quarantined) for f in md.files)
    bad_files.extend(
        {
            "partition_date": day,
            "feed": contract.name,
            "source_file": file,
            "error": error,
            "run_id": run_id,
        }
        for file, error in md.bad_files
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


def _empty_typed(contract: TableContract) -> pa.Table:
    schema = pa.schema(
        [(c.name, c.type) for c in contract.columns]
        + [(LINE, pa.int64()), (EXTRA, pa.string()), (FILE, pa.string()), (MAPPING, pa.string())]
    )
    return schema.empty_table()


def _rejects_table(
    file: pa.Array,
    line: pa.Array,
    key: pa.Array,
    code: list[str],
    message: list[str],
    raw: list[str],
) -> pa.Table:
    return pa.table(
        {
            "source_file": file,
            "source_line": line,
            "record_key": key,
            "reason_code": pa.array(code, pa.string()),
            "message": pa.array(message, pa.string()),
            "raw_record": pa.array(raw, pa.string()),
        }
    )


def _read_one(
    lf: LandingFile, contract: TableContract, timezone: str, via_mapping: bool = False
) -> tuple[pa.Table, pa.Table, FileReport]:
    if via_mapping:
        raw = read_raw_mapped(lf.path, contract, lf.fmt, lf.compression, lf.relative)
    else:
        raw = read_raw(lf.path, contract, lf.fmt, lf.compression)
    result = conform(raw.table, contract, timezone)
    n_typed, n_rejected, n_malformed = (
        result.table.num_rows,
        result.rejects.num_rows,
        len(raw.malformed),
    )
    typed = result.table.append_column(FILE, pa.array([lf.relative] * n_typed, pa.string()))
    typed = typed.append_column(MAPPING, pa.nulls(n_typed, pa.string()))
    rejects = _rejects_table(
        pa.array([lf.relative] * n_rejected, pa.string()),
        result.rejects[LINE],
        _reject_keys(raw.table, result.rejects[LINE], contract.key),
        result.rejects["reason_code"].to_pylist(),
        result.rejects["message"].to_pylist(),
        result.rejects["raw_record"].to_pylist(),
    )
    malformed = _rejects_table(
        pa.array([lf.relative] * n_malformed, pa.string()),
        pa.array([m.line for m in raw.malformed], pa.int64()),
        pa.nulls(n_malformed, pa.string()),
        [m.reason for m in raw.malformed],
        [m.error for m in raw.malformed],
        [m.text for m in raw.malformed],
    )
    report = FileReport(
        file=lf.relative,
        fmt=f"{lf.fmt} via {identity_lineage(contract)}" if via_mapping else lf.fmt,
        rows_read=raw.table.num_rows + n_malformed,
        rows_quarantined=n_rejected + n_malformed,
        missing_columns=raw.missing_columns,
        extra_columns=raw.extra_columns,
    )
    return typed, pa.concat_tables([rejects, malformed]), report


def _reject_keys(raw: pa.Table, lines: pa.Array, key: str) -> pa.Array:
    if key not in raw.column_names or len(lines) == 0:
        return pa.nulls(len(lines), pa.string())
    idx = pc.index_in(lines, value_set=raw[LINE].combine_chunks())
    return raw[key].combine_chunks().cast(pa.string()).take(idx)


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
    invalid = _rejects_table(
        bad[FILE].combine_chunks(),
        bad[LINE].combine_chunks(),
        bad[contract.key].combine_chunks().cast(pa.string()),
        [",".join(sorted({code for code, _ in r})) for r in reasons],
        ["; ".join(f"{code}: {msg}" for code, msg in r) for r in reasons],
        raw,
    )
    return rows.filter(pa.array(keep)), invalid


def _dedupe(table: pa.Table, contract: TableContract) -> tuple[pa.Table, pa.Table]:
    """Keep the latest delivery of each id (updated_at, then file and line break ties):
    (kept rows, superseded rows).

    Only the few rows whose id occurs more than once are sorted; the day keeps file order.
    """
    if table.num_rows == 0:
        return table, table
    keys = table[contract.key]
    counts = pa.table({"k": keys}).group_by("k").aggregate([("k", "count")])
    repeated = counts.filter(pc.greater(counts["k_count"], 1))["k"]
    if len(repeated) == 0:
        return table, table.schema.empty_table()
    in_repeated = pc.is_in(keys, value_set=repeated.combine_chunks())
    positions = pc.indices_nonzero(in_repeated)
    subset = table.select([contract.key, "updated_at", FILE, LINE]).take(positions)
    subset = subset.append_column("_pos", positions)
    ordered = subset.sort_by(
        [
            (contract.key, "ascending"),
            ("updated_at", "ascending"),
            (FILE, "ascending"),
            (LINE, "ascending"),
        ]
    )
    sorted_keys = ordered[contract.key].combine_chunks()
    next_differs = pc.not_equal(sorted_keys[1:], sorted_keys[:-1]).to_numpy(zero_copy_only=False)
    superseded = ~np.append(next_differs, True)  # every copy but the last of its id
    drop = ordered["_pos"].combine_chunks().to_numpy()[superseded]
    keep = np.ones(table.num_rows, dtype=bool)
    keep[drop] = False
    return table.filter(pa.array(keep)), table.filter(pa.array(~keep))


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
