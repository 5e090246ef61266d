"""The native contracts as identity mappings: native files read by the mapping engine.

A native file (``<feed>/<day>/<table>[_<suffix>].{csv,jsonl,ndjson,parquet}[.gz|.zst]``, as
landing discovery names it) speaks its contract already, so its mapping is the identity:
every contract column from the source field of the same name. That mapping is generated
from the contract declaration (:mod:`outcome_pipeline.contracts.feeds`) when it is needed,
never written by hand, so a contract column cannot drift from its mapping
(:mod:`outcome_pipeline.ingest.native_identity`: as data, as the TOML a vendor mapping would
be, and compiled with the mapping engine's own compiler).

The engine reads the file (DuckDB's CSV and JSON scanners, one query per file on a cursor
of the process's one database, record numbers and malformed records as for every mapping;
a Parquet file, which an identity mapping cannot reject a record of, straight into Arrow by
pyarrow, no query); what it gives is the file's fields as text, exactly the raw table the
native reader gave (:class:`~outcome_pipeline.ingest.raw_file.RawFile`). Typing stays the
contract's own step
(:func:`~outcome_pipeline.ingest.conform.conform`), shared with the native reader, which is
what keeps the quarantine reason codes, messages and whitespace rules of native rows; the
records the engine rejects are described in the reader's words
(:mod:`outcome_pipeline.ingest.native_malformed`).

Which reader runs is the ``OUTCOME_NATIVE_INGEST`` setting: ``reader`` (the default; the
Arrow reader of :mod:`outcome_pipeline.ingest.readers`) or ``mapping`` (this module). The
default stays with the reader while the mapping engine is slower on native files; see
``benchmarks/PERFORMANCE.md``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.ingest.conform import LINE
from outcome_pipeline.ingest.csv_reader import csv_header
from outcome_pipeline.ingest.duck import cursor
from outcome_pipeline.ingest.lines import (
    MAX_LINE_BYTES,
    LongLine,
    iter_lines,
    long_lines,
    open_bytes,
    truncated,
)
from outcome_pipeline.ingest.mapping.compile import CompiledMapping
from outcome_pipeline.ingest.mapping.execute import MappedDay, map_files
from outcome_pipeline.ingest.native_identity import identity_mapping, naive_ts
from outcome_pipeline.ingest.native_malformed import malformed_lines
from outcome_pipeline.ingest.raw_file import (
    LandingFileError,
    MalformedLine,
    RawFile,
    check_access,
    empty_text_table,
    is_empty,
)

SETTING = "OUTCOME_NATIVE_INGEST"
READER, MAPPING = "reader", "mapping"
MODES = (READER, MAPPING)


class NativeIngestSettingError(ValueError):
    """``OUTCOME_NATIVE_INGEST`` holds neither ``reader`` nor ``mapping``."""


def native_ingest_mode(value: str | None = None) -> str:
    """The reader of native files: ``value``, else the ``OUTCOME_NATIVE_INGEST`` setting."""
    mode = (value if value is not None else os.environ.get(SETTING, "")).strip().lower()
    mode = mode or READER
    if mode not in MODES:
        raise NativeIngestSettingError(
            f"{SETTING}={mode!r}: use {READER!r} (the Arrow reader) or {MAPPING!r} (the native "
            "contracts as identity mappings through the mapping engine)"
        )
    return mode


def read_raw_mapped(
    path: Path,
    contract: TableContract,
    fmt: str,
    compression: str | None = None,
    relative: str | None = None,
) -> RawFile:
    """:func:`~outcome_pipeline.ingest.readers.read_raw`, executed by the mapping engine.

    Same contract: text columns (Parquet: as text too) plus ``_source_line``, the file's
    missing and extra columns, its malformed lines; a file that cannot be read, or lacks a
    required column, raises :class:`LandingFileError` with the reader's reason code.
    """
    relative = relative or str(path)
    check_access(path)
    try:
        if fmt in ("csv", "jsonl") and is_empty(path, compression):
            return RawFile(empty_text_table(contract))
        if fmt == "csv":
            fields = tuple(csv_header(path, compression))
        elif fmt == "parquet":
            schema = pq.read_schema(path)
            fields = tuple(schema.names)
        elif fmt == "jsonl":
            fields = _jsonl_keys(path, compression)
        else:
            raise LandingFileError(f"{path}: unknown format {fmt!r}")
    except LandingFileError:
        raise
    except (pa.ArrowException, duckdb.Error, OSError, UnicodeError, ValueError) as exc:
        raise LandingFileError(f"{path}: cannot be read as {fmt}: {exc}") from exc
    missing = [c for c in contract.column_names if c not in fields]
    extra = [f for f in fields if f not in contract.column_names]
    missing_required = [c for c in missing if c in contract.required_columns]
    if missing_required:
        raise LandingFileError(
            f"{path}: required column(s) {', '.join(missing_required)} missing "
            f"(table {contract.name})",
            reason="missing_column",
        )
    # Contract columns first, then the fields the contract does not know (as the reader).
    ordered = tuple(c for c in contract.column_names if c in fields) + tuple(extra)
    # CSV rows as long as the reader takes (DuckDB's default stops at 2 MB); a longer one
    # makes the file unreadable, checked below only when the engine rejected something.
    max_line = MAX_LINE_BYTES + 1 if fmt == "csv" else 0
    types = tuple(schema.field(f).type for f in ordered) if fmt == "parquet" else ()
    mapping = identity_mapping(contract, fmt, ordered, "UTC", max_line, types)
    mapped = map_files(mapping, [(path, relative)])
    oversized: dict[int, LongLine] = {}
    if fmt == "jsonl" and (mapped.bad_files or mapped.rejects.num_rows):
        # Something is off in the file: lines too long to be a record are set aside first.
        with open_bytes(path, compression) as fh:
            oversized = {o.line: o for o in long_lines(fh)}
        if oversized and mapped.bad_files:
            mapped = _map_without_lines(mapping, path, relative, compression, set(oversized))
    if fmt == "csv" and (mapped.bad_files or mapped.rejects.num_rows):
        _refuse_oversized_csv(path, compression)
    if mapped.bad_files:
        _, error = mapped.bad_files[0]
        raise LandingFileError(f"{path}: cannot be read as {fmt}: {error}")
    table = mapped.typed.select(list(ordered))
    for i, t in enumerate(types):
        if naive_ts(t):
            table = table.set_column(i, ordered[i], table[i].cast(pa.timestamp("us")))
    table = table.append_column(LINE, mapped.typed["_source_line"])
    rejects = mapped.rejects
    if oversized:
        lines = pa.array(sorted(oversized), pa.int64())
        table = table.filter(pc.invert(pc.is_in(table[LINE], value_set=lines)))
        rejects = rejects.filter(pc.invert(pc.is_in(rejects["source_line"], value_set=lines)))
    malformed = malformed_lines(rejects, path, fmt, compression, fields, ordered)
    malformed += [
        MalformedLine(
            o.line,
            truncated(o.head, o.size),
            f"line of {o.size} bytes, over the {MAX_LINE_BYTES} byte limit of one record",
            reason="oversized_line",
        )
        for o in oversized.values()
    ]
    return RawFile(
        table=table,
        missing_columns=missing,
        extra_columns=extra,
        malformed=sorted(malformed, key=lambda m: m.line),
    )


def _refuse_oversized_csv(path: Path, compression: str | None) -> None:
    """A row longer than MAX_LINE_BYTES makes the file unreadable, as for the reader: a CSV
    row can span lines, so one line cannot be cut out safely."""
    with open_bytes(path, compression) as fh:
        if long_lines(fh):
            raise LandingFileError(
                f"{path}: a row is longer than {MAX_LINE_BYTES} bytes, more than any record "
                "of a feed; the file cannot be split into rows safely, so none is staged",
                reason="oversized_line",
            )


def _map_without_lines(
    mapping: CompiledMapping,
    path: Path,
    relative: str,
    compression: str | None,
    lines: set[int],
) -> MappedDay:
    """Map a copy of the file whose ``lines`` are empty objects (numbers kept): DuckDB
    refuses a whole file for one line past its object size limit."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "records.jsonl"
        with open_bytes(path, compression) as src, copy.open("wb") as dst:
            for number, raw in iter_lines(src):
                if number in lines or raw is None:
                    dst.write(b"{}\n")
                else:
                    dst.write(raw if raw.endswith(b"\n") else raw + b"\n")
        return map_files(mapping, [(copy, relative)])


def _jsonl_keys(path: Path, compression: str | None) -> tuple[str, ...]:
    """Every key any record of a JSON lines file has, in first-seen order."""
    try:
        return _keys_query(path, compression, MAX_LINE_BYTES)
    except duckdb.Error as exc:
        if "maximum_object_size" not in str(exc):
            raise
    # DuckDB refuses the whole file for one line past twice its object size: look past the
    # longest line (those lines are set aside as oversized when the file is mapped).
    with open_bytes(path, compression) as fh:
        longest = max((o.size for o in long_lines(fh)), default=0)
    return _keys_query(path, compression, max(MAX_LINE_BYTES, longest + 1))


def _keys_query(path: Path, compression: str | None, limit: int) -> tuple[str, ...]:
    with cursor(path.stat().st_size) as con:
        rows = con.sql(
            "SELECT k FROM (SELECT unnest(json_keys(json)) AS k, ordinality AS o "
            "FROM read_json_objects($path, format='newline_delimited', ignore_errors=true, "
            "compression=$compression, maximum_object_size=$limit) WITH ORDINALITY) "
            "GROUP BY k ORDER BY min(o), k",
            params={"path": str(path), "compression": compression or "none", "limit": limit},
        ).fetchall()
    return tuple(r[0] for r in rows)
