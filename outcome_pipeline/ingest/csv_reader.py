"""Read a CSV landing file as text columns with its line numbers (the header is line 1).

Columns are read as binary first, so a stray non-UTF-8 byte costs its row, not the file.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.ingest.lines import (
    MAX_LINE_BYTES,
    UNCLOSED_TAIL,
    block_size_for_rows,
    find_unclosed_quote,
    open_bytes,
    truncated,
    unclosed_quote,
)
from outcome_pipeline.ingest.raw_file import (
    LINE,
    LandingFileError,
    MalformedLine,
    RawFile,
    arrow_source,
)


def _quiet_undecodable_invalid_rows(args: sys.UnraisableHookArgs) -> None:
    """pyarrow decodes a refused row's text as UTF-8 before it calls the invalid-row handler;
    a row holding another byte fails there, and pyarrow prints "Exception ignored in ...
    on_invalid" with a traceback on stderr, then fails the read, which :func:`read_csv`
    handles (a quarantine reason, or the records before an unclosed quote). Only that report
    is silenced; every other one goes to the hook that was there before."""
    on_invalid = getattr(args.object, "__qualname__", "") == "read_csv.<locals>.on_invalid"
    if on_invalid and isinstance(args.exc_value, UnicodeDecodeError):
        return
    _previous_unraisable_hook(args)


_previous_unraisable_hook = sys.unraisablehook
sys.unraisablehook = _quiet_undecodable_invalid_rows


def read_csv(
    path: Path, contract: TableContract, compression: str | None, relative: str | None = None
) -> RawFile:
    """Read ``path`` (named ``relative`` in reasons) as text columns with line numbers."""
    header = csv_header(path, compression)
    # Contract columns first, then columns the contract does not know (kept, not typed).
    present = [c for c in contract.column_names if c in header]
    present += [c for c in header if c not in contract.column_names]
    bad: list[pacsv.InvalidRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append(row)
        return "skip"

    block = block_size_for_rows(path, compression, pacsv.ReadOptions().block_size)

    # The records before an unclosed quote, when the file has one (see below).
    before: bytes | None = None

    def read(use_threads: bool) -> pa.Table:
        bad.clear()
        return pacsv.read_csv(
            arrow_source(path, compression) if before is None else pa.BufferReader(before),
            read_options=pacsv.ReadOptions(use_threads=use_threads, block_size=block),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                # Binary first: a stray non-UTF-8 byte must cost one row, not the file.
                column_types={name: pa.binary() for name in header},
                include_columns=present,
                # Only an empty field is missing. Arrow's default markers (NA, N/A, NULL,
                # nan, …) are values in a contact-center export: an agent or queue "NA", a
                # region NA (North America). DuckDB's reader, hence every mapping, keeps
                # them too; in a typed column they are then a bad value, not a silent NULL.
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )

    unclosed = None
    try:
        table = read(use_threads=True)
    except pa.ArrowInvalid as exc:
        if "straddling" in str(exc):
            raise LandingFileError(
                f"{path}: a row is longer than {MAX_LINE_BYTES} bytes, more than any record "
                "of a feed; the file cannot be split into rows safely, so none is staged",
                reason="oversized_line",
            ) from exc
        # A line Arrow cannot hand to the handler (its text is not UTF-8) fails the whole
        # read; when it is the rest of the file swallowed by a quote, the records before the
        # quote are still readable.
        unclosed = find_unclosed_quote(path, compression)
        if unclosed is None:
            raise
        table = pa.table({})
    if unclosed is None and _spans_lines(table, bad):
        unclosed = find_unclosed_quote(path, compression)
    if unclosed is not None:
        # Arrow closes the value at the end of the file (or of its block) and stages the
        # record, the lines after it inside one of its values: read only the records before
        # it, and quarantine it with the lines it swallowed, as the mapping engine does.
        if unclosed.line == 1:
            raise LandingFileError(
                f"{path}: the header opens a quoted value that is never closed; {UNCLOSED_TAIL}"
            )
        with open_bytes(path, compression) as fh:
            before = fh.read(unclosed.offset)
        table = read(use_threads=True)
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
    if unclosed is not None:
        message = unclosed_quote(relative or str(path), unclosed.line, "", unclosed.lines)
        malformed.append(
            MalformedLine(unclosed.line, truncated(unclosed.head, unclosed.size), message)
        )
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


def _spans_lines(table: pa.Table, bad: list[pacsv.InvalidRow]) -> bool:
    """Whether a value (or a line Arrow refused) holds a line break: a quoted value spanning
    lines, the one trace of a quote that is never closed."""
    if any("\n" in row.text for row in bad):
        return True
    # The values' bytes searched at memchr speed (a compute kernel per value took a quarter
    # of the read); a buffer shared with a slice only adds bytes of the same file.
    for col in table.columns:
        for chunk in col.chunks:
            data = chunk.buffers()[2]
            if data is not None and data.to_pybytes().find(b"\n") != -1:
                return True
    return False


def csv_header(path: Path, compression: str | None) -> list[str]:
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
