"""The records an identity mapping rejected, described in the native reader's words (its
reason codes, messages and raw record text), so quarantine rows do not depend on which
reader read a native file.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa

from outcome_pipeline.ingest.jsonl_reader import malformed_jsonl
from outcome_pipeline.ingest.lines import UNCLOSED_TAIL, open_bytes, truncated
from outcome_pipeline.ingest.raw_file import MalformedLine


def malformed_lines(
    rejects: pa.Table,
    path: Path,
    fmt: str,
    compression: str | None,
    header: tuple[str, ...],
    ordered: tuple[str, ...],
) -> list[MalformedLine]:
    """The engine's rejected records of an identity mapping, in the reader's words.

    An identity mapping types nothing, so a record it rejects is one that is not a record
    at all (a CSV line with the wrong field count or bad bytes, a line that is not JSON).
    """
    if rejects.num_rows == 0:
        return []
    lines = rejects["source_line"].to_pylist()
    if fmt == "jsonl":
        return malformed_jsonl(path, compression, set(lines))
    codes = rejects["reason_code"].to_pylist()
    encoding = {line for line, code in zip(lines, codes, strict=True) if code == "bad_encoding"}
    bad_bytes = _csv_bad_encoding(path, compression, encoding, header, ordered)
    out = []
    for line, code, raw, message in zip(
        lines, codes, rejects["raw_record"].to_pylist(), rejects["message"].to_pylist(), strict=True
    ):
        text = raw or ""
        # An unclosed quote keeps the engine's reason (re-counted as fields, the rest of
        # the file can look like a record of the right length: "expected 7, found 7").
        if code == "malformed_row" and not (message or "").endswith(UNCLOSED_TAIL):
            fields = next(csv.reader(io.StringIO(text)), [])
            out.append(
                MalformedLine(
                    line,
                    truncated(text.encode()),
                    f"expected {len(header)} fields, found {len(fields)}",
                )
            )
        elif line in bad_bytes:
            out.append(bad_bytes[line])
        else:
            out.append(MalformedLine(line, truncated(text.encode()), message or code, code))
    return out


def _csv_bad_encoding(
    path: Path,
    compression: str | None,
    lines: set[int],
    header: tuple[str, ...],
    ordered: tuple[str, ...],
) -> dict[int, MalformedLine]:
    """CSV records holding bytes that are not UTF-8, described as the reader describes them:
    the first such column (contract columns first), the record's fields as JSON."""
    if not lines:
        return {}
    with open_bytes(path, compression) as fh:
        text = fh.read().decode("utf-8", "surrogateescape")
    out = {}
    records = csv.reader(io.StringIO(text, newline=""))
    next(records, None)  # the header
    for number, record in enumerate(records, start=2):
        if number not in lines or len(record) != len(header):
            continue
        by_name = {
            name: value.encode("utf-8", "surrogateescape")
            for name, value in zip(header, record, strict=True)
        }
        error = ""
        for name in ordered:
            try:
                by_name[name].decode("utf-8")
            except UnicodeDecodeError as exc:
                error = f"column {name}: invalid UTF-8 ({exc.reason})"
                break
        shown = {n: by_name[n].decode("utf-8", "replace") or None for n in ordered}
        out[number] = MalformedLine(
            number, truncated(json.dumps(shown).encode()), error, "bad_encoding"
        )
    return out
