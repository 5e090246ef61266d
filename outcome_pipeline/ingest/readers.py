"""Read one landing file of any of the three formats into Arrow, with its line numbers.

The per-format readers are :mod:`~outcome_pipeline.ingest.csv_reader` and
:mod:`~outcome_pipeline.ingest.jsonl_reader`, and Parquet here; what they give and raise is in
:mod:`~outcome_pipeline.ingest.raw_file`.

CSV and JSON lines are read as text columns (the contract decides the types later, in
:mod:`outcome_pipeline.ingest.conform`, so that one bad value costs one row, not the file).
Parquet already carries types; it is cast to the contract's types. Every row keeps the
1-based line it came from (CSV: the header is line 1; JSON lines: the line; Parquet: the row).
Text files may be gzip or zstd compressed (``compression``); both readers decompress natively.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.ingest.conform import conform
from outcome_pipeline.ingest.csv_reader import read_csv
from outcome_pipeline.ingest.jsonl_reader import read_jsonl
from outcome_pipeline.ingest.raw_file import (
    FILE,
    LINE,
    LandingFileError,
    RawFile,
    check_access,
    empty_text_table,
    is_empty,
)


def read_raw(
    path: Path,
    contract: TableContract,
    fmt: str | None = None,
    compression: str | None = None,
    relative: str | None = None,
) -> RawFile:
    """Read ``path`` for ``contract``; raise :class:`LandingFileError` if it is unreadable.

    ``relative``: the file's name in reasons (its path relative to the landing root).
    A missing *required* column makes the whole file unreadable (the message names the column
    and the file); a missing optional column is filled with nulls and reported; extra columns
    are reported and left out.
    """
    fmt = fmt or path.suffix.lstrip(".")
    check_access(path)
    try:
        if fmt in ("csv", "jsonl") and is_empty(path, compression):
            # Text exports of a day with nothing to say are often empty files: zero rows.
            return RawFile(empty_text_table(contract))
        if fmt == "csv":
            raw = read_csv(path, contract, compression, relative)
        elif fmt == "jsonl":
            raw = read_jsonl(path, contract, compression)
        elif fmt == "parquet":
            raw = _read_parquet(path, contract)
        else:
            raise LandingFileError(f"{path}: unknown format {fmt!r}")
    except LandingFileError:
        raise
    except (pa.ArrowException, duckdb.Error, OSError, UnicodeError, ValueError) as exc:
        raise LandingFileError(f"{path}: cannot be read as {fmt}: {exc}") from exc
    missing_required = [c for c in raw.missing_columns if c in contract.required_columns]
    if missing_required:
        raise LandingFileError(
            f"{path}: required column(s) {', '.join(missing_required)} missing "
            f"(table {contract.name})",
            reason="missing_column",
        )
    return raw


def read_landing_file(path: Path, contract: TableContract, timezone: str = "UTC") -> pa.Table:
    """Read a file into the contract's typed columns plus ``_source_file``/``_source_line``.

    Rows that cannot be typed are left out here; the ingest step keeps them (quarantine).
    """
    raw = read_raw(path, contract)
    typed = conform(raw.table, contract, timezone).table
    return typed.append_column(FILE, pa.array([str(path)] * typed.num_rows, pa.string()))


def _read_parquet(path: Path, contract: TableContract) -> RawFile:
    names = pq.read_schema(path).names
    present = [c for c in contract.column_names if c in names]
    present += [c for c in names if c not in contract.column_names]
    table = pq.read_table(path, columns=present)
    lines = pa.array(range(1, table.num_rows + 1), pa.int64())
    return RawFile(
        table=table.append_column(LINE, lines),
        missing_columns=[c for c in contract.column_names if c not in names],
        extra_columns=[c for c in names if c not in contract.column_names],
    )
