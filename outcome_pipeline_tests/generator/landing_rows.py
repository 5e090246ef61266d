"""An independent, slow, obviously-correct reader of generated files for the tests.

It parses every line on its own (csv module, json module, Parquet to Python) and judges
each row against the contract by hand, so the generator's manifest can be checked against
something that shares no code with the generator or the project's readers.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from outcome_pipeline.contracts.feeds import (
    CHANNELS,
    SURVEY_SCORE_RANGES,
    TableContract,
)

_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")
ORDER = {
    "interactions": (("ended_at", "queued_at"), ("answered_at", "queued_at")),
    "cases": (("closed_at", "opened_at"),),
    "survey_responses": (("responded_at", "sent_at"),),
}
NON_NEGATIVE = {
    "interactions": ("talk_seconds", "hold_seconds", "acw_seconds"),
    "customers": ("mrr",),
    "subscription_events": ("mrr_before", "mrr_after"),
}


@dataclass
class Row:
    file: str
    line: int
    values: dict[str, object]  # raw: text for CSV, JSON values for JSONL, Python for Parquet
    utf8: bool = True


def read_rows(root: Path, rel: str) -> list[Row]:
    path = root / rel
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return [Row(rel, i + 1, r) for i, r in enumerate(table.to_pylist())]
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"", f"{rel} must end with a newline"
    lines = lines[:-1]
    if path.suffix == ".jsonl":
        return [Row(rel, i + 1, json.loads(raw)) for i, raw in enumerate(lines)]
    header = lines[0].decode().split(",")
    rows = []
    for i, raw in enumerate(lines[1:]):
        try:
            text, ok = raw.decode("utf-8"), True
        except UnicodeDecodeError:
            text, ok = raw.decode("utf-8", "replace"), False
        fields = next(csv.reader([text]))
        assert len(fields) == len(header), f"{rel}:{i + 2} has {len(fields)} fields"
        values = {h: (f if f != "" else None) for h, f in zip(header, fields, strict=True)}
        rows.append(Row(rel, i + 2, values, ok))
    return rows


def parse_ts(value: object) -> datetime | None:
    """A timestamp value as written (ISO text or a datetime), or None if not a valid one."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def typed(contract: TableContract, name: str, value: object) -> tuple[bool, object]:
    """(value has the column's type, the typed value)."""
    t = contract.column(name).type
    if value is None:
        return True, None
    if pa.types.is_timestamp(t):
        ts = parse_ts(value)
        return ts is not None, ts
    if pa.types.is_boolean(t):
        if isinstance(value, bool):
            return True, value
        return value in ("true", "false"), value == "true"
    if pa.types.is_integer(t):
        if isinstance(value, int) and not isinstance(value, bool):
            return True, value
        ok = isinstance(value, str) and bool(_INT.fullmatch(value))
        return ok, int(value) if ok else None
    if pa.types.is_floating(t):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, float(value)
        ok = isinstance(value, str) and bool(_FLOAT.fullmatch(value))
        return ok, float(value) if ok else None
    return isinstance(value, str), value


def problems(contract: TableContract, row: Row) -> tuple[set[str], dict[str, object]]:
    """Which defect kinds a row shows, and its typed values."""
    found: set[str] = set()
    if not row.utf8:
        found.add("bad_encoding")
    values: dict[str, object] = {}
    assert list(row.values) == contract.column_names, f"{row.file}: columns/keys differ"
    for name, raw in row.values.items():
        ok, value = typed(contract, name, raw)
        if not ok:
            is_ts = pa.types.is_timestamp(contract.column(name).type)
            found.add("impossible_timestamp" if is_ts else "bad_type")
        values[name] = value
        if value is None and contract.column(name).required and raw is None:
            found.add("missing_key")
    channel = values.get("channel")
    if contract.name == "interactions" and channel is not None and channel not in CHANNELS:
        found.add("unknown_channel")
    for name in NON_NEGATIVE.get(contract.name, ()):
        if isinstance(values[name], (int, float)) and values[name] < 0:
            found.add("out_of_range")
    if contract.name == "survey_responses" and isinstance(values["score"], int):
        low, high = SURVEY_SCORE_RANGES.get(values["survey_type"], (None, None))
        if low is not None and not low <= values["score"] <= high:
            found.add("out_of_range")
    for late, early in ORDER.get(contract.name, ()):
        a, b = values[late], values[early]
        if isinstance(a, datetime) and isinstance(b, datetime) and a < b:
            found.add("impossible_timestamp")
    return found, values


def business_day(ts: datetime, timezone: str) -> str:
    return ts.astimezone(ZoneInfo(timezone)).date().isoformat()
