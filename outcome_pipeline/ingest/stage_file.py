"""Stage one landing file of a table-day: its typed rows, its rejected lines, its report.

The native contract files are read here (by the Arrow reader, or through their identity
mappings); rejected and malformed lines become quarantine rows keyed by file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.ingest.conform import LINE, conform
from outcome_pipeline.ingest.landing import LandingFile
from outcome_pipeline.ingest.native import read_raw_mapped
from outcome_pipeline.ingest.native_identity import identity_lineage
from outcome_pipeline.ingest.raw_file import FILE
from outcome_pipeline.ingest.readers import read_raw

# Lineage of a typed row: the source mapping (name@version) it came through; null when the
# native contract reader read it.
MAPPING = "_source_mapping"


@dataclass
class FileReport:
    """What one landing file gave."""

    file: str
    fmt: str
    rows_read: int
    rows_quarantined: int
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)


def rejects_table(
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


def read_landing_file(
    lf: LandingFile, contract: TableContract, timezone: str, via_mapping: bool = False
) -> tuple[pa.Table, pa.Table, FileReport]:
    if via_mapping:
        raw = read_raw_mapped(lf.path, contract, lf.fmt, lf.compression, lf.relative)
    else:
        raw = read_raw(lf.path, contract, lf.fmt, lf.compression, lf.relative)
    result = conform(raw.table, contract, timezone)
    n_typed, n_rejected, n_malformed = (
        result.table.num_rows,
        result.rejects.num_rows,
        len(raw.malformed),
    )
    typed = result.table.append_column(FILE, pa.array([lf.relative] * n_typed, pa.string()))
    typed = typed.append_column(MAPPING, pa.nulls(n_typed, pa.string()))
    rejects = rejects_table(
        pa.array([lf.relative] * n_rejected, pa.string()),
        result.rejects[LINE],
        _reject_keys(raw.table, result.rejects[LINE], contract.key),
        result.rejects["reason_code"].to_pylist(),
        result.rejects["message"].to_pylist(),
        result.rejects["raw_record"].to_pylist(),
    )
    malformed = rejects_table(
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
