"""Byte-level helpers for landing files: open (maybe compressed), find oversized lines.

Memory stays bounded by the chunk size whatever a line's length: a hostile file with one
line of gigabytes is measured, never held.
"""

from __future__ import annotations

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


def unclosed_quote(file: str, line: int, raw: str) -> str:
    """The reason for a CSV record whose quoted value is never closed.

    ``raw`` is what the reader kept from that record on: the quote swallows the rest of the
    file, so every line after it is lost as records. DuckDB says "Value with unterminated
    quote found." (no file, nothing about the lost lines); re-counted as fields, the rest of
    the file reads as a record of the right length ("expected 7 fields, found 7").
    """
    rest = raw.rstrip("\r\n").count("\n") + 1
    return (
        f"{file}, line {line}: a quoted value opens in this record and is never closed, so "
        f"the {rest} line(s) from here to the end of the file are not read as records; "
        f"{UNCLOSED_TAIL}"
    )


UNCLOSED_TAIL = "fix the quoting and land the file again"
