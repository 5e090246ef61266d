"""Read one landing file of any of the three formats into Arrow, with its line numbers.

CSV and JSON lines are read as text columns (the contract decides the types later, in
:mod:`outcome_pipeline.ingest.conform`, so that one bad value costs one row, not the file).
Parquet already carries types; it is cast to the contract's types. Every row keeps the
1-based line it came from (CSV: the header is line 1; JSON lines: the line; Parquet: the row).
Text files may be gzip or zstd compressed (``compression``); both readers decompress natively.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.ingest.conform import conform
from outcome_pipeline.ingest.lines import (
    MAX_LINE_BYTES,
    block_size_for_rows,
    iter_lines,
    long_lines,
    open_bytes,
    truncated,
)

LINE = "_source_line"
FILE = "_source_file"


class LandingFileError(Exception):
    """A landing file that cannot be read as a whole; the message names the file."""

    def __init__(self, message: str, reason: str = "unreadable") -> None:
        super().__init__(message)
        self.reason = reason


class LandingAccessError(Exception):
    """A landing file this process may not read (permissions): not a property of the file's
    content, so it is never quarantined — staging it would replace the day's staged rows
    without the file's rows. The staging step refuses instead, and nothing is changed."""


@dataclass
class MalformedLine:
    """A line that is not a record at all (wrong field count, not JSON, not UTF-8)."""

    line: int
    text: str
    error: str
    reason: str = "malformed_row"


@dataclass
class RawFile:
    """What a file holds before typing: contract columns (text or typed), lines, drift."""

    table: pa.Table
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    malformed: list[MalformedLine] = field(default_factory=list)


def read_raw(
    path: Path, contract: TableContract, fmt: str | None = None, compression: str | None = None
) -> RawFile:
    """Read ``path`` for ``contract``; raise :class:`LandingFileError` if it is unreadable.

    A missing *required* column makes the whole file unreadable (the message names the column
    and the file); a missing optional column is filled with nulls and reported; extra columns
    are reported and left out.
    """
    fmt = fmt or path.suffix.lstrip(".")
    try:
        with open(path, "rb"):
            pass
    except PermissionError as exc:
        raise LandingAccessError(f"{path}: {exc.strerror or 'permission denied'}") from exc
    try:
        if fmt in ("csv", "jsonl") and _is_empty(path, compression):
            # Text exports of a day with nothing to say are often empty files: zero rows.
            return RawFile(_empty_text_table(contract))
        if fmt == "csv":
            raw = _read_csv(path, contract, compression)
        elif fmt == "jsonl":
            raw = _read_jsonl(path, contract, compression)
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


def _is_empty(path: Path, compression: str | None) -> bool:
    if compression is None:
        return path.stat().st_size == 0
    with open_bytes(path, compression) as fh:
        return fh.read(1) == b""


def _source(path: Path, compression: str | None) -> Path | pa.NativeFile:
    """What pyarrow's readers take: the path, or a decompressing stream (read once)."""
    if compression is None:
        return path
    return pa.input_stream(str(path), compression=compression)


def _empty_text_table(contract: TableContract) -> pa.Table:
    columns = {c: pa.array([], pa.string()) for c in contract.column_names}
    return pa.table({**columns, LINE: pa.array([], pa.int64())})


# --- CSV -------------------------------------------------------------------------------


def _read_csv(path: Path, contract: TableContract, compression: str | None) -> RawFile:
    header = _csv_header(path, compression)
    # Contract columns first, then columns the contract does not know (kept, not typed).
    present = [c for c in contract.column_names if c in header]
    present += [c for c in header if c not in contract.column_names]
    bad: list[pacsv.InvalidRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append(row)
        return "skip"

    block = block_size_for_rows(path, compression, pacsv.ReadOptions().block_size)

    def read(use_threads: bool) -> pa.Table:
        bad.clear()
        return pacsv.read_csv(
            _source(path, compression),
            read_options=pacsv.ReadOptions(use_threads=use_threads, block_size=block),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                # Binary first: a stray non-UTF-8 byte must cost one row, not the file.
                column_types={name: pa.binary() for name in header},
                include_columns=present,
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        table = read(use_threads=True)
    except pa.ArrowInvalid as exc:
        if "straddling" not in str(exc):
            raise
        raise LandingFileError(
            f"{path}: a row is longer than {MAX_LINE_BYTES} bytes, more than any record of "
            "a feed; the file cannot be split into rows safely, so none is staged",
            reason="oversized_line",
        ) from exc
    if bad:
        # Physical line numbers are only known to the single-threaded reader.
        table = read(use_threads=False)
    malformed = [
        MalformedLine(
            row.number or -1,
            truncated(row.text.encode()),
            f"expected {row.expected_columns} fields, found {row.actual_columns}",
        )
        for row in bad
    ]
    skipped = {m.line for m in malformed}
    lines = _lines_excluding(table.num_rows, first=2, skipped=skipped)
    table, enc_bad = _decode_utf8(table, lines)
    malformed.extend(enc_bad)
    return RawFile(
        table=table,
        missing_columns=[c for c in contract.column_names if c not in header],
        extra_columns=[c for c in header if c not in contract.column_names],
        malformed=sorted(malformed, key=lambda m: m.line),
    )


def _csv_header(path: Path, compression: str | None) -> list[str]:
    with open_bytes(path, compression) as fh:
        first = fh.readline(MAX_LINE_BYTES)
    if not first.strip():
        return []
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LandingFileError(f"{path}: header is not UTF-8: {exc}") from exc
    header = next(csv.reader([text.rstrip("\r\n")]))
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(header, start=1):
        positions.setdefault(name, []).append(i)
    twice = {n: p for n, p in positions.items() if len(p) > 1}
    if twice:
        # Which copy holds the truth is unknowable: the file is quarantined, not guessed at.
        shown = "; ".join(f"{n!r} in columns {', '.join(map(str, p))}" for n, p in twice.items())
        raise LandingFileError(
            f"{path}: the header names a column more than once ({shown}); "
            "fix the export so that each column appears once",
            reason="duplicate_column",
        )
    return header


def _lines_excluding(n: int, first: int, skipped: set[int]) -> pa.Array:
    if not skipped:
        return pa.array(range(first, first + n), pa.int64())
    out, line = [], first
    while len(out) < n:
        if line not in skipped:
            out.append(line)
        line += 1
    return pa.array(out, pa.int64())


def _decode_utf8(table: pa.Table, lines: pa.Array) -> tuple[pa.Table, list[MalformedLine]]:
    """Binary → string columns; rows holding invalid UTF-8 become malformed lines."""
    bad_rows: dict[int, str] = {}
    for name in table.column_names:
        col = table[name].combine_chunks()
        try:
            col.cast(pa.string())
        except pa.ArrowInvalid:
            for i, value in enumerate(col.to_pylist()):
                if value is None:
                    continue
                try:
                    value.decode("utf-8")
                except UnicodeDecodeError as exc:
                    bad_rows.setdefault(i, f"column {name}: invalid UTF-8 ({exc.reason})")
    malformed = []
    if bad_rows:
        keep = pa.array([i not in bad_rows for i in range(table.num_rows)])
        for i, err in sorted(bad_rows.items()):
            raw = {n: table[n][i].as_py() for n in table.column_names}
            text = json.dumps({k: v.decode("utf-8", "replace") if v else v for k, v in raw.items()})
            malformed.append(
                MalformedLine(lines[i].as_py(), truncated(text.encode()), err, "bad_encoding")
            )
        table, lines = table.filter(keep), lines.filter(keep)
    columns = [table[n].cast(pa.string()) for n in table.column_names]
    out = pa.table(columns, names=table.column_names).append_column(LINE, lines)
    return out, malformed


# --- JSON lines ------------------------------------------------------------------------


def _read_jsonl(path: Path, contract: TableContract, compression: str | None) -> RawFile:
    """Fast path: Arrow's JSON reader with the contract's types (timestamps as text).

    A file where a value has the wrong JSON type, a line is not JSON, a blank line would
    shift line numbers, or a line is longer than Arrow's block (1 MiB: "straddling object")
    takes the line-by-line path, which costs more but loses nothing.
    """
    schema = pa.schema(
        [
            (c.name, pa.string() if pa.types.is_timestamp(c.type) else c.type)
            for c in contract.columns
        ]
    )
    try:
        table = pajson.read_json(
            _source(path, compression),
            parse_options=pajson.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="infer"
            ),
        )
    except pa.ArrowInvalid:
        return _read_jsonl_by_line(path, contract, compression)
    with open_bytes(path, compression) as fh:
        newlines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b""))
    if table.num_rows not in (newlines, newlines + 1):
        return _read_jsonl_by_line(path, contract, compression)
    present = _present_json_keys(path, table, compression)
    lines = pa.array(range(1, table.num_rows + 1), pa.int64())
    keep = [c for c in table.column_names if c in present]
    return RawFile(
        table=table.select(keep).append_column(LINE, lines),
        missing_columns=[c for c in contract.column_names if c not in present],
        extra_columns=[c for c in keep if c not in contract.column_names],
    )


def _present_json_keys(path: Path, table: pa.Table, compression: str | None) -> set[str]:
    """Columns the file really has: a contract column that is null on every row may be absent."""
    present = {name for name in table.column_names if table[name].null_count < table.num_rows}
    absent = [name for name in table.column_names if name not in present]
    if absent:
        # Only when a column is null everywhere: look for its key in the file itself.
        with open_bytes(path, compression) as fh:
            text = fh.read()
        present |= {name for name in absent if f'"{name}"'.encode() in text}
    return present


def _read_jsonl_by_line(path: Path, contract: TableContract, compression: str | None) -> RawFile:
    with open_bytes(path, compression) as fh:
        oversized = long_lines(fh)
    # DuckDB refuses a whole file once a line passes twice its maximum_object_size: raise it
    # past the longest line, then leave the oversized lines out as quarantined lines.
    limit = max([MAX_LINE_BYTES, *(o.size + 1 for o in oversized)])
    skip = pa.table({"line": pa.array([o.line for o in oversized], pa.int64())})
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        # read_json_objects keeps one row per line (NULL where the line is not JSON), so
        # line numbers survive; ->> renders numbers and booleans as text, which the
        # contract then types like CSV text.
        con.register("oversized", skip)
        rel = con.sql(
            "SELECT ordinality::BIGINT AS line, json, json_keys(json) AS keys "
            "FROM read_json_objects($path, format='newline_delimited', ignore_errors=true, "
            "compression=$compression, maximum_object_size=$limit) WITH ORDINALITY "
            "WHERE line NOT IN (SELECT line FROM oversized)",
            params={"path": str(path), "compression": compression or "none", "limit": limit},
        ).to_arrow_table()
        keys = set(pc.unique(pc.list_flatten(rel["keys"])).to_pylist())
        selects = ", ".join(f"json->>'{c}' AS \"{c}\"" for c in contract.column_names if c in keys)
        con.register("rel", rel)
        body = con.sql(
            f"SELECT line{', ' + selects if selects else ''} FROM rel WHERE json IS NOT NULL "
            "ORDER BY line"
        ).to_arrow_table()
        bad_lines = con.sql(
            "SELECT line FROM rel WHERE json IS NULL ORDER BY line"
        ).to_arrow_table()
    finally:
        con.close()
    malformed = _malformed_jsonl(path, compression, set(bad_lines["line"].to_pylist()))
    malformed += [
        MalformedLine(
            o.line,
            truncated(o.head, o.size),
            f"line of {o.size} bytes, over the {MAX_LINE_BYTES} byte limit of one record",
            reason="oversized_line",
        )
        for o in oversized
    ]
    table = body.drop_columns(["line"]).append_column(LINE, body["line"])
    return RawFile(
        table=table,
        missing_columns=[c for c in contract.column_names if c not in keys],
        extra_columns=sorted(keys - set(contract.column_names)),
        malformed=sorted(malformed, key=lambda m: m.line),
    )


def _malformed_jsonl(path: Path, compression: str | None, lines: set[int]) -> list[MalformedLine]:
    if not lines:
        return []
    out = []
    with open_bytes(path, compression) as fh:
        for number, raw in iter_lines(fh):
            if number not in lines or raw is None:
                continue
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not text.strip():
                continue  # blank lines are not records
            try:
                raw.decode("utf-8")
                json.loads(text)
                error = "not a JSON object"
            except UnicodeDecodeError as exc:
                error = f"invalid UTF-8 ({exc.reason})"
            except json.JSONDecodeError as exc:
                error = f"not valid JSON ({exc.msg})"
            reason = "bad_encoding" if "UTF-8" in error else "malformed_row"
            out.append(MalformedLine(number, truncated(raw.rstrip(b"\r\n")), error, reason))
    return out


# --- Parquet ---------------------------------------------------------------------------


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
