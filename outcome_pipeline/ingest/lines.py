"""Byte-level helpers for landing files: open (maybe compressed), find oversized lines.

Memory stays bounded by the chunk size whatever a line's length: a hostile file with one
line of gigabytes is measured, never held.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

# A JSON lines record longer than this is not a record of any feed: it is quarantined as a
# line (DuckDB's default maximum_object_size, so the rest of the file reads as usual).
MAX_LINE_BYTES = 16 << 20
# How much of a bad line's text quarantine keeps.
MAX_RAW_CHARS = 4096
_CHUNK = 1 << 24


@dataclass(frozen=True)
class LongLine:
    line: int  # 1-based
    size: int  # bytes, without the line break
    head: bytes  # the first MAX_RAW_CHARS bytes


def open_bytes(path: Path, compression: str | None = None) -> BinaryIO:
    """A buffered binary stream of the file's (decompressed) content."""
    if compression is None:
        return path.open("rb")
    return io.BufferedReader(pa.input_stream(str(path), compression=compression))


def truncated(raw: bytes, size: int | None = None) -> str:
    """Text of a raw line cut to MAX_RAW_CHARS, saying how long it really was."""
    size = len(raw) if size is None else size
    text = raw[:MAX_RAW_CHARS].decode("utf-8", "replace")
    if size <= MAX_RAW_CHARS:
        return text
    return f"{text}... [truncated: {size} bytes]"


def long_lines(stream: BinaryIO, limit: int = MAX_LINE_BYTES) -> list[LongLine]:
    """Lines longer than ``limit`` bytes, scanned chunk by chunk (vectorised per chunk)."""
    out: list[LongLine] = []
    line, length, head = 1, 0, b""
    while chunk := stream.read(_CHUNK):
        breaks = np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10)
        if len(breaks) == 0:
            head += chunk[: max(0, MAX_RAW_CHARS - len(head))]
            length += len(chunk)
            continue
        first = int(breaks[0])
        head += chunk[: max(0, min(first, MAX_RAW_CHARS - len(head)))]
        if length + first > limit:
            out.append(LongLine(line, length + first, head))
        line += 1
        inner = np.diff(breaks) - 1  # lengths of the lines wholly inside this chunk
        for i in map(int, np.flatnonzero(inner > limit)):
            start = int(breaks[i]) + 1
            out.append(LongLine(line + i, int(inner[i]), chunk[start : start + MAX_RAW_CHARS]))
        line += len(inner)
        tail = chunk[int(breaks[-1]) + 1 :]
        length, head = len(tail), tail[:MAX_RAW_CHARS]
    if length > limit:
        out.append(LongLine(line, length, head))
    return out


def iter_lines(stream: BinaryIO, limit: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes | None]]:
    """(line number, raw line) pairs; a line over ``limit`` bytes gives None, unread."""
    number = 0
    while raw := stream.readline(limit + 2):
        number += 1
        if len(raw) == limit + 2 and not raw.endswith(b"\n"):
            while (rest := stream.readline(_CHUNK)) and not rest.endswith(b"\n"):
                pass
            yield number, None
            continue
        yield number, raw


def block_size_for_rows(path: Path, compression: str | None, default: int) -> int:
    """Arrow's CSV reader fails a whole file whose longest row exceeds its block size.

    Only a file larger than one block can hold a longer row, so normal files skip the scan.
    A row over MAX_LINE_BYTES keeps the default block: the reader then fails and the file is
    quarantined (a CSV row can span lines, so one line cannot be cut out safely).
    """
    if compression is None and path.stat().st_size <= default:
        return default
    with open_bytes(path, compression) as fh:
        longest = max((line.size for line in long_lines(fh, default)), default=0)
    if longest == 0 or longest > MAX_LINE_BYTES:
        return default
    return 1 << (longest + 1).bit_length()  # quoted line breaks aside, a row fits


def unclosed_quote(file: str, line: int, raw: str, lines: int | None = None) -> str:
    """The reason for a CSV record whose quoted value is never closed.

    ``raw`` is what the reader kept from that record on: the quote swallows the rest of the
    file, so every line after it is lost as records (``lines`` of them, when the caller
    counted them instead of keeping them all). DuckDB says "Value with unterminated quote
    found." (no file, nothing about the lost lines); re-counted as fields, the rest of the
    file reads as a record of the right length ("expected 7 fields, found 7"); Arrow's
    reader closed the value at the end of the file and staged the record.
    """
    rest = lines if lines is not None else raw.rstrip("\r\n").count("\n") + 1
    return (
        f"{file}, line {line}: a quoted value opens in this record and is never closed, so "
        f"the {rest} line(s) from here to the end of the file are not read as records; "
        f"{UNCLOSED_TAIL}"
    )


UNCLOSED_TAIL = "fix the quoting and land the file again"


@dataclass(frozen=True)
class UnclosedQuote:
    """A CSV record whose quoted value never closes: it swallows the rest of the file."""

    line: int  # 1-based line where the record starts
    offset: int  # byte offset of that line in the (decompressed) content
    lines: int  # lines from there to the end of the file
    head: bytes  # the first MAX_RAW_CHARS bytes from there
    size: int  # bytes from there to the end


def find_unclosed_quote(
    path: Path, compression: str | None = None, quote: str = '"', delimiter: str = ","
) -> UnclosedQuote | None:
    """The record of a CSV file whose quoted value is never closed, or None.

    Parsed record by record by Python's csv module in strict mode, which fails exactly at
    the end of the data inside a quoted value: a loop per record, so callers run it only when
    a value read holds a line break (the only trace such a record leaves in what a reader
    gives). Counting quotes would not do: a literal quote inside an unquoted field (``5"
    screen``) is legal and makes any count's parity meaningless. Bytes are read as Latin-1:
    quotes, delimiters and line breaks are ASCII, so record boundaries do not depend on the
    text's encoding.
    """
    offsets = [0]  # byte offset after each line handed to the parser

    def lines_of(stream: BinaryIO) -> Iterator[str]:
        for raw in stream:
            offsets.append(offsets[-1] + len(raw))
            yield raw.decode("latin-1")

    with open_bytes(path, compression) as fh:
        reader = csv.reader(lines_of(fh), delimiter=delimiter, quotechar=quote, strict=True)
        while True:
            start = reader.line_num
            try:
                next(reader)
            except StopIteration:
                return None
            except csv.Error as exc:
                # Strict mode also fails a record with text after a closing quote, which the
                # readers accept: only the end of the data inside a quote is ours, or a value
                # longer than any record of a feed (the field limit, set below), which only a
                # quote swallowing the rest of the file makes.
                if "unexpected end of data" in str(exc) or "field limit" in str(exc):
                    break
    offset = offsets[start]
    lines, size, head, last = 0, 0, b"", b"\n"
    with open_bytes(path, compression) as fh:
        skip = offset
        while skip and (chunk := fh.read(min(skip, _CHUNK))):
            skip -= len(chunk)
        while chunk := fh.read(_CHUNK):
            head += chunk[: max(0, MAX_RAW_CHARS - len(head))]
            lines += int(np.count_nonzero(np.frombuffer(chunk, np.uint8) == 10))
            size += len(chunk)
            last = chunk[-1:]
    lines += last != b"\n"  # a last line without its line break
    return UnclosedQuote(start + 1, offset, lines, head, size)


# Python's csv module stops a field at 128 Ki characters; a record of a feed may be as long
# as MAX_LINE_BYTES (raised here once, process-wide: it only lets csv read longer fields).
csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
