"""Write contract tables as landing files: CSV, JSON lines, Parquet.

CSV and JSON lines are built with Arrow string kernels (one join per chunk of rows, no
per-row Python), so a million rows render in about a second. Encodings the readers rely on:

- CSV: header of the contract column names in contract order; comma separated; UTF-8;
  empty field = null; fields quoted only when they contain a comma, quote, newline or
  leading/trailing whitespace; booleans ``true``/``false``; timestamps ISO-8601 with an
  explicit offset (UTC ``Z``, or business local time with its offset, e.g. ``+01:00``).
- JSON lines: one object per line with every contract key, JSON null for missing values,
  numbers as numbers, booleans as booleans, timestamps as ISO strings with ``+00:00``.
- Parquet: exactly ``contract.arrow_schema()``.

*Overrides* inject raw values (defects) at given row positions of a CSV/JSONL file; a value
containing :data:`BAD_UTF8_MARK` is written with invalid UTF-8 bytes in its place.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from outcome_pipeline.contracts.feeds import TableContract
from outcome_pipeline.generator.timeutil import NA, BusinessClock, from_timestamp, iso_strings

BAD_UTF8_MARK = "\x01\x02"  # never produced by the simulation; becomes BAD_UTF8 on disk
BAD_UTF8 = b"\xff\xfe"
DEFAULT_CHUNK = 250_000
# column -> (row positions in the file, ascending; raw values to write there)
Overrides = dict[str, tuple[np.ndarray, list[object]]]
_NEEDS_QUOTES = r'[",\r\n]|^\s|\s$'


def _string_buffer(arr: pa.Array) -> memoryview:
    """The UTF-8 bytes of a (null-free) string array, end to end, without a copy."""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    data = arr.buffers()[2]
    if data is None or len(arr) == 0:
        return memoryview(b"")
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])]


def _data(values: pa.Array) -> bytes:
    """All the text of a string array, for fast ``in`` scans (memchr)."""
    if values.null_count == len(values):
        return b""
    return bytes(_string_buffer(pc.fill_null(values, "")))


def _contains_any(values: pa.Array, chars: bytes) -> bool:
    data = _data(values)
    return any(bytes([c]) in data for c in chars)


def _csv_quote(values: pa.Array) -> pa.Array:
    if not _contains_any(values, b'",\r\n \t'):
        return values
    needs = pc.match_substring_regex(values, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return values
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, values)


def _csv_column(col: pa.Array, clock: BusinessClock | None) -> pa.Array:
    t = col.type
    if pa.types.is_timestamp(t):
        seconds = from_timestamp(col)
        if clock is None:
            return iso_strings(seconds)
        offsets = clock.offset(np.where(seconds == NA, 0, seconds))
        return iso_strings(seconds, offsets)
    if pa.types.is_string(t):
        return _csv_quote(col)
    return pc.cast(col, pa.string())  # ints, floats; booleans render as true/false


def _json_escape(values: pa.Array) -> pa.Array:
    data = _data(values)
    for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        if raw.encode() in data:
            values = pc.replace_substring(values, raw, escaped)
    return values


def _json_column(col: pa.Array) -> pa.Array:
    t = col.type
    if pa.types.is_timestamp(t):
        seconds = from_timestamp(col)
        text = iso_strings(seconds, np.zeros(len(seconds), dtype=np.int64))
        out = pc.binary_join_element_wise('"', text, '"', "")
    elif pa.types.is_string(t):
        out = pc.binary_join_element_wise('"', _json_escape(col), '"', "")
    else:
        out = pc.cast(col, pa.string())
    return pc.fill_null(out, "null")


def _csv_literal(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"\r\n') else text


def _json_literal(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _apply(
    text: pa.Array, positions: np.ndarray, values: list[object], lo: int, literal
) -> pa.Array:
    sel = (positions >= lo) & (positions < lo + len(text))
    if not sel.any():
        return text
    mask = np.zeros(len(text), dtype=bool)
    mask[positions[sel] - lo] = True
    chosen = [literal(v) for v, s in zip(values, sel, strict=True) if s]
    return pc.replace_with_mask(text, pa.array(mask), pa.array(chosen, pa.string()))


def _has_mark(overrides: Overrides) -> bool:
    return any(
        isinstance(v, str) and BAD_UTF8_MARK in v
        for _, values in overrides.values()
        for v in values
    )


def _write_chunks(
    path: Path, header: bytes, table: pa.Table, chunk: int, render, bad_utf8: bool
) -> None:
    with path.open("wb") as fh:
        fh.write(header)
        for lo in range(0, table.num_rows, chunk):
            data = _string_buffer(render(table.slice(lo, chunk), lo))
            if bad_utf8:
                fh.write(bytes(data).replace(BAD_UTF8_MARK.encode(), BAD_UTF8))
            else:
                fh.write(data)


def write_csv(
    table: pa.Table,
    path: Path,
    contract: TableContract,
    *,
    clock: BusinessClock | None = None,
    overrides: Overrides | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> None:
    """CSV with a header; timestamps in UTC, or in ``clock``'s local time with offsets."""
    names = contract.column_names
    table = table.select(names).cast(contract.arrow_schema())
    overrides = overrides or {}

    def render(part: pa.Table, lo: int) -> pa.Array:
        cols = []
        for name in names:
            text = _csv_column(part[name].combine_chunks(), clock)
            if name in overrides:
                text = _apply(text, *overrides[name], lo, _csv_literal)
            cols.append(text)
        line = pc.binary_join_element_wise(*cols, ",", null_handling="replace", null_replacement="")
        return pc.binary_join_element_wise(line, "\n", "")

    header = (",".join(names) + "\n").encode()
    _write_chunks(path, header, table, chunk, render, _has_mark(overrides))


def write_jsonl(
    table: pa.Table,
    path: Path,
    contract: TableContract,
    *,
    overrides: Overrides | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> None:
    """JSON lines with every contract key on every line."""
    names = contract.column_names
    table = table.select(names).cast(contract.arrow_schema())
    overrides = overrides or {}
    keys = [("{" if i == 0 else ",") + json.dumps(n) + ":" for i, n in enumerate(names)]

    def render(part: pa.Table, lo: int) -> pa.Array:
        pieces: list[object] = []
        for key, name in zip(keys, names, strict=True):
            text = _json_column(part[name].combine_chunks())
            if name in overrides:
                text = _apply(text, *overrides[name], lo, _json_literal)
            pieces += [key, text]
        return pc.binary_join_element_wise(*pieces, "}\n", "")

    _write_chunks(path, b"", table, chunk, render, _has_mark(overrides))


def write_parquet(table: pa.Table, path: Path, contract: TableContract) -> None:
    """Parquet with exactly the contract's Arrow schema."""
    typed = table.select(contract.column_names).cast(contract.arrow_schema())
    pq.write_table(typed, path, compression="zstd")
