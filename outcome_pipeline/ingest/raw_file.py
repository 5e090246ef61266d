"""What a landing file holds before typing, and what reading one can raise: the types the
per-format readers share, and the small helpers they all use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.ingest.lines import open_bytes

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


def check_access(path: Path) -> None:
    """Raise :class:`LandingAccessError` if ``path`` cannot be opened for reading.

    Checked before any reader runs: a permission problem is the operator's to fix (not the
    file's fault), so it must not be quarantined as an unreadable file.
    """
    try:
        with open(path, "rb"):
            pass
    except PermissionError as exc:
        raise LandingAccessError(f"{path}: {exc.strerror or 'permission denied'}") from exc


def is_empty(path: Path, compression: str | None) -> bool:
    if compression is None:
        return path.stat().st_size == 0
    with open_bytes(path, compression) as fh:
        return fh.read(1) == b""


def arrow_source(path: Path, compression: str | None) -> Path | pa.NativeFile:
    """What pyarrow's readers take: the path, or a decompressing stream (read once)."""
    if compression is None:
        return path
    return pa.input_stream(str(path), compression=compression)


def empty_text_table(contract: TableContract) -> pa.Table:
    columns = {c: pa.array([], pa.string()) for c in contract.column_names}
    return pa.table({**columns, LINE: pa.array([], pa.int64())})
