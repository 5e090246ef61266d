"""Run a compiled mapping over one business day's files: typed contract rows and rejects.

Every source record ends in exactly one place: a typed row, a rejected row (with the source
file, the line or record path, the raw record and the reasons), or — when the file as a whole
cannot be read or lacks a mapped field — a rejected file naming the problem.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from outcome_pipeline.contracts.feeds import TS
from outcome_pipeline.contracts.staging import QUARANTINE_SCHEMA
from outcome_pipeline.ingest.duck import cursor
from outcome_pipeline.ingest.landing import COMPRESSIONS, LandingPathError, day_folder
from outcome_pipeline.ingest.lines import open_bytes, unclosed_quote
from outcome_pipeline.ingest.mapping.compile import CompiledMapping
from outcome_pipeline.ingest.mapping.query import (
    CODES_COL,
    FILE_COL,
    LINE_COL,
    MESSAGE_COL,
    PATH_COL,
    RAW_COL,
    first_line,
)
from outcome_pipeline.ingest.mapping.result_lineage import (
    skip_malformed_lines,
    with_file,
    with_raw_lines,
)

# A rejected row as the quarantine keeps it, less what staging adds (the day, the run).
REJECT_SCHEMA = pa.schema(
    [f for f in QUARANTINE_SCHEMA if f.name not in ("partition_date", "run_id")]
)


@dataclass
class FileCount:
    file: str
    rows_read: int = 0
    rows_quarantined: int = 0


@dataclass
class MappedDay:
    """What one mapping gave for one day (typed rows carry ``_source_file``/``_source_line``)."""

    mapping: CompiledMapping
    typed: pa.Table
    rejects: pa.Table
    files: list[FileCount] = field(default_factory=list)
    bad_files: list[tuple[str, str]] = field(default_factory=list)  # (relative file, error)

    @property
    def relative_files(self) -> set[str]:
        return {f.file for f in self.files} | {f for f, _ in self.bad_files}


def day_files(root: Path, mapping: CompiledMapping, day: date) -> list[tuple[Path, str]]:
    """The day's files of a mapping, (absolute path, path relative to the landing root)."""
    root = root.resolve()
    folder = day_folder(root, mapping.spec.source.feed, day)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(mapping.spec.source.glob)):
        if not path.is_file():
            continue
        real = path.resolve()
        if not real.is_relative_to(root):
            raise LandingPathError(f"{path} points outside the landing root {root}")
        found.append((real, path.relative_to(root).as_posix()))
    return found


def source_header(path: Path, mapping: CompiledMapping) -> list[str]:
    """Column names of a CSV or Parquet file (empty for JSON: fields may be absent per record)."""
    src = mapping.spec.source
    if src.format == "parquet":
        return pq.read_schema(path).names
    if src.format != "csv":
        return []
    # A compressed export (.csv.gz, .csv.zst) is read as DuckDB reads it: decompressed.
    with open_bytes(path, COMPRESSIONS.get(path.suffix.lower().lstrip("."))) as fh:
        first = fh.readline()
    text = first.decode("utf-8-sig" if src.csv.encoding == "utf-8" else src.csv.encoding)
    row = next(
        csv.reader(io.StringIO(text), delimiter=src.csv.delimiter, quotechar=src.csv.quote), []
    )
    if not src.csv.header:
        return [f"column{i}" for i in range(len(row))]
    return [h.strip() for h in row]


def map_files(
    mapping: CompiledMapping, files: list[tuple[Path, str]], limit: int | None = None
) -> MappedDay:
    """Map ``files`` (absolute, relative) with one query; split rows by their reasons."""
    good: list[tuple[Path, str]] = []
    headers: list[list[str]] = []
    out = MappedDay(mapping, _empty_typed(mapping), REJECT_SCHEMA.empty_table())
    for path, rel in files:
        if path.stat().st_size == 0:
            out.files.append(FileCount(rel))  # an export of a quiet day: zero records
            continue
        try:
            cols = source_header(path, mapping)
        except (OSError, UnicodeError, pa.ArrowException, StopIteration) as exc:
            out.bad_files.append((rel, f"{rel}: cannot be read as {mapping.fmt}: {exc}"))
            continue
        missing = sorted(f for f in mapping.fields if cols and f not in cols)
        if mapping.fmt in ("csv", "parquet") and missing:
            out.bad_files.append(
                (
                    rel,
                    f"{rel}: lacks field(s) {', '.join(missing)} mapped by "
                    f"{mapping.path.name} ({mapping.lineage})",
                )
            )
            continue
        headers.append(cols)
        good.append((path, rel))
    # Files of one layout are read by one query; a feed whose export changed its columns
    # mid-way gives one query per layout.
    layouts: dict[tuple[str, ...], list[tuple[Path, str]]] = {}
    for (path, rel), cols in zip(good, headers, strict=True):
        layouts.setdefault(tuple(cols), []).append((path, rel))
    for cols, group in layouts.items():
        _run(out, group, list(cols), limit)
    return out


def _run(
    out: MappedDay, group: list[tuple[Path, str]], header: list[str], limit: int | None
) -> None:
    mapping = out.mapping
    rel_of = {str(p): r for p, r in group}
    if mapping.identity and mapping.fmt == "parquet":
        for path, rel in group:
            try:
                result = read_parquet_identity(mapping, path, limit)
            except (OSError, pa.ArrowException) as exc:
                error = f"cannot be read as parquet by {mapping.path.name}: {exc}"
                out.bad_files.append((rel, f"{rel}: {error}"))
                continue
            _split(out, result, REJECT_SCHEMA.empty_table(), {str(path): rel}, [rel])
        return
    sql = mapping.query([str(p) for p, _ in group], header)
    if limit is not None:
        # CSV lines after the header that are not records are dropped after the query.
        skip = first_line(mapping)[1] if mapping.fmt == "csv" and len(group) == 1 else 0
        sql += f"\nLIMIT {int(limit) + skip}"
    with cursor(sum(p.stat().st_size for p, _ in group)) as con:
        try:
            result = con.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            if len(group) > 1:
                # Find the file at fault: the others still map.
                for one in group:
                    _run(out, [one], header, limit)
                return
            error = f"cannot be read as {mapping.fmt} by {mapping.path.name}: {exc}"
            out.bad_files.extend((r, f"{r}: {error}") for _, r in group)
            return
        if mapping.fmt == "csv":
            result = number_csv_records(result, *first_line(mapping), several=len(group) > 1)
        elif len(group) > 1 and mapping.fmt != "parquet":
            result = lines_per_file(result, *first_line(mapping))
        result = with_file(result, str(group[0][0]))
        if mapping.fmt == "jsonl":
            result = with_raw_lines(con, result)
        malformed = (
            _csv_rejects(con, rel_of) if mapping.fmt == "csv" else REJECT_SCHEMA.empty_table()
        )
    if malformed.num_rows:
        result = skip_malformed_lines(result, malformed, rel_of)
    _split(out, result, malformed, rel_of, [r for _, r in group])


def number_csv_records(result: pa.Table, first: int, skip: int, several: bool) -> pa.Table:
    """Number a CSV query's records from their position: the scan's order, which the query
    keeps. Record k of a file is line ``first + k - 1`` (lines DuckDB could not split are
    not records; :func:`skip_malformed_lines` moves the numbers past them afterwards), and
    its first ``skip`` records are dropped (lines after a header that are not records)."""
    at = result.column_names.index(LINE_COL)
    position = pa.array(np.arange(1, result.num_rows + 1, dtype=np.int64))
    if several:
        return lines_per_file(result.set_column(at, LINE_COL, position), first, skip)
    result = result.set_column(at, LINE_COL, pc.add(position, first - 1))
    return result.slice(skip) if skip else result


def lines_per_file(result: pa.Table, first: int, skip: int) -> pa.Table:
    """Number each file's records from ``first`` (the scan numbered them across the set).

    A file's records are numbered in one run, so its k-th record is the file's smallest
    number plus k - 1. The first ``skip`` records of each file are not records (lines after
    a header) and are dropped. Arrow's group-by over the result stands in for a SQL window
    partitioned by file, which would hold the whole set in memory before the first row.
    """
    files = pc.cast(result[FILE_COL], pa.string())
    numbers = pc.cast(result[LINE_COL], pa.int64())
    starts = pa.table({"f": files, "n": numbers}).group_by("f").aggregate([("n", "min")])
    start = pc.take(starts["n_min"], pc.index_in(files, starts["f"]))
    nth = pc.add(pc.subtract(numbers, start), 1)  # 1-based record number in its file
    result = result.set_column(
        result.column_names.index(LINE_COL), LINE_COL, pc.add(nth, first - 1)
    )
    return result.filter(pc.greater(nth, skip)) if skip else result


def read_parquet_identity(mapping: CompiledMapping, path: Path, limit: int | None) -> pa.Table:
    """What the query of an identity mapping gives for one Parquet file, read by pyarrow
    straight into Arrow: DuckDB's scan would only copy the columns into its vectors and back,
    and no record of a Parquet file can be rejected when nothing is typed or checked.

    The columns come as the mapping's contract types them (text for any string, timestamps
    with a zone in UTC microseconds, without one as their microseconds), as the scan gave.
    """
    table = pq.read_table(path, columns=list(mapping.columns))
    if limit is not None:
        table = table.slice(0, limit)
    n = table.num_rows
    cols: dict[str, pa.ChunkedArray | pa.Array] = {
        LINE_COL: pa.array(np.arange(1, n + 1, dtype=np.int64))
    }
    for c in mapping.contract.columns:
        col = table[c.name]
        if pa.types.is_timestamp(col.type):
            col = pc.cast(col, pa.timestamp("us", tz=col.type.tz), safe=False)
            col = col.cast(pa.int64()) if pa.types.is_integer(c.type) else col
        cols[c.name] = col if col.type == c.type else pc.cast(col, c.type)
    cols[CODES_COL] = pa.nulls(n, pa.list_(pa.string()))
    cols[MESSAGE_COL] = pa.nulls(n, pa.string())
    cols[RAW_COL] = pa.nulls(n, pa.string())
    return with_file(pa.table(cols), str(path))


def map_day(root: Path, mapping: CompiledMapping, day: date) -> MappedDay:
    return map_files(mapping, day_files(root, mapping, day))


def _csv_rejects(con: duckdb.DuckDBPyConnection, rel_of: dict[str, str]) -> pa.Table:
    """Lines DuckDB's CSV reader could not split (wrong field count, bad encoding)."""
    try:
        # One line can be reported several times (once per field count tried): keep one.
        t = con.sql(
            "SELECT DISTINCT ON (f, line) s.file_path AS f, e.line AS line, e.csv_line AS raw, "
            "e.error_type::VARCHAR AS kind, e.error_message AS msg FROM __rejects e "
            "JOIN __reject_scans s USING (scan_id, file_id) ORDER BY f, line"
        ).to_arrow_table()
    except duckdb.Error:
        return REJECT_SCHEMA.empty_table()
    kinds = t["kind"].cast(pa.string()).to_pylist()
    return pa.table(
        {
            "source_file": [rel_of.get(f, f) for f in t["f"].to_pylist()],
            "source_line": t["line"].cast(pa.int64()),
            "record_key": pa.nulls(t.num_rows, pa.string()),
            "reason_code": ["bad_encoding" if "ENCODING" in k else "malformed_row" for k in kinds],
            "message": _reject_messages(t, rel_of),
            "raw_record": t["raw"].cast(pa.string()),
        },
        schema=REJECT_SCHEMA,
    )


def _reject_messages(t: pa.Table, rel_of: dict[str, str]) -> list[str | None]:
    """DuckDB's message for each line it could not split, unless it says too little."""
    out = []
    for f, line, raw, kind, msg in zip(*(t[c].to_pylist() for c in t.column_names), strict=True):
        if kind == "UNQUOTED VALUE" and "unterminated quote" in (msg or ""):
            msg = unclosed_quote(rel_of.get(f, f), line, raw or "")
        out.append(msg)
    return out


def _split(
    out: MappedDay,
    result: pa.Table,
    malformed: pa.Table,
    rel_of: dict[str, str],
    order: list[str],
) -> MappedDay:
    m = out.mapping
    rel_files = _relative(result[FILE_COL], rel_of)
    bad = pc.is_valid(result[CODES_COL])
    any_bad = pc.any(bad).as_py() or False
    typed = {}
    for c in m.contract.columns:
        col = result[c.name] if c.name in result.column_names else pa.nulls(result.num_rows, c.type)
        want = TS if pa.types.is_timestamp(c.type) else c.type
        typed[c.name] = col if col.type == want else pc.cast(col, want)
    typed["_source_line"] = pc.cast(result[LINE_COL], pa.int64())
    typed["_extra"] = pa.nulls(result.num_rows, pa.string())
    typed["_source_file"] = rel_files
    table = pa.table(typed)
    if any_bad:
        table = table.filter(pc.invert(bad))
    rejected = result.filter(bad) if any_bad else result.slice(0, 0)
    paths = (
        rejected[PATH_COL].cast(pa.string())
        if PATH_COL in rejected.column_names
        else pa.array([""] * rejected.num_rows, pa.string())
    )
    message = pc.if_else(
        pc.is_in(paths, pa.array(["", "$"])),
        rejected[MESSAGE_COL],
        pc.binary_join_element_wise("record ", paths, ": ", rejected[MESSAGE_COL], ""),
    )
    key = m.contract.key
    rejects = pa.table(
        {
            "source_file": pc.cast(rel_files.filter(bad), pa.string())
            if any_bad
            else pa.array([], pa.string()),
            "source_line": pc.cast(rejected[LINE_COL], pa.int64()),
            "record_key": pc.cast(rejected[key], pa.string())
            if key in rejected.column_names
            else pa.nulls(rejected.num_rows, pa.string()),
            "reason_code": pc.binary_join(rejected[CODES_COL], ","),
            "message": message,
            "raw_record": rejected[RAW_COL].cast(pa.string()),
        },
        schema=REJECT_SCHEMA,
    )
    rejects = pa.concat_tables([rejects, malformed])
    table = table.cast(out.typed.schema)
    out.typed = pa.concat_tables([out.typed, table]) if out.typed.num_rows else table
    out.rejects = pa.concat_tables([out.rejects, rejects])
    counts = _count_by_file(rel_files, bad, malformed, order)
    out.files.extend(FileCount(r, *counts.get(r, (0, 0))) for r in order)
    return out


def _relative(files: pa.ChunkedArray, rel_of: dict[str, str]) -> pa.ChunkedArray:
    """Each row's file relative to the landing root (absolute paths as the query gave them)."""
    if not rel_of:
        return pc.cast(files, pa.string())
    if pa.types.is_dictionary(files.type):
        # One dictionary per chunk: translate the few dictionary entries, not every row.
        chunks = []
        for chunk in files.chunks:
            names = [rel_of.get(x, x) for x in chunk.dictionary.to_pylist()]
            chunks.append(pc.take(pa.array(names, pa.string()), chunk.indices))
        return pa.chunked_array(chunks, pa.string())
    keys = pa.array(list(rel_of), pa.string())
    values = pa.array(list(rel_of.values()), pa.string())
    return pc.take(values, pc.index_in(pc.cast(files, pa.string()), keys))


def _count_by_file(
    files: pa.ChunkedArray, bad: pa.ChunkedArray, malformed: pa.Table, order: list[str]
) -> dict[str, tuple[int, int]]:
    if len(order) == 1:
        # One file (the usual day): no grouping of a million equal names.
        counts = {order[0]: [len(files), int(pc.sum(bad).as_py() or 0)]}
    else:
        t = pa.table({"f": files, "bad": pc.cast(bad, pa.int64())})
        agg = t.group_by("f").aggregate([("bad", "count"), ("bad", "sum")])
        counts = {
            f: [int(n), int(b or 0)]
            for f, n, b in zip(
                agg["f"].to_pylist(),
                agg["bad_count"].to_pylist(),
                agg["bad_sum"].to_pylist(),
                strict=True,
            )
        }
    for f in malformed["source_file"].to_pylist():
        entry = counts.setdefault(f, [0, 0])
        entry[0] += 1
        entry[1] += 1
    return {f: (n, b) for f, (n, b) in counts.items()}


def _empty_typed(mapping: CompiledMapping) -> pa.Table:
    schema = pa.schema(
        [(c.name, c.type) for c in mapping.contract.columns]
        + [("_source_line", pa.int64()), ("_extra", pa.string()), ("_source_file", pa.string())]
    )
    return schema.empty_table()
