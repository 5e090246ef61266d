"""Type a raw file's columns to its contract, row by row, without losing a row.

Fast path: one Arrow cast per column. Only when a cast fails do we fall back to a vectorised
per-value parse (pandas ``to_datetime`` / ``to_numeric`` with ``errors="coerce"``) to find the
rows that carry the bad value. Those rows are returned as rejects with a reason; the others
are typed. Timestamps with an offset are converted to UTC; timestamps without one are read as
business-timezone local time (how many vendor exports write them).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.contracts.feeds import TS

LINE = "_source_line"
EXTRA = "_extra"  # JSON text of the columns a file had beyond its contract (schema drift)

_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


@dataclass
class Conformed:
    """Typed rows, and rows that could not be typed with why."""

    table: pa.Table  # contract columns (contract types) + _source_line
    rejects: pa.Table  # _source_line, reason_code, message, raw_record (JSON text)


def empty_rejects() -> pa.Table:
    return pa.table(
        {
            LINE: pa.array([], pa.int64()),
            "reason_code": pa.array([], pa.string()),
            "message": pa.array([], pa.string()),
            "raw_record": pa.array([], pa.string()),
        }
    )


def conform(table: pa.Table, contract: TableContract, timezone: str) -> Conformed:
    """Cast ``table`` (text or typed columns + ``_source_line``) to ``contract``."""
    n = table.num_rows
    bad = np.zeros(n, dtype=bool)
    messages: defaultdict[int, list[str]] = defaultdict(list)
    columns: dict[str, pa.Array] = {}
    for col in contract.columns:
        if col.name not in table.column_names:
            columns[col.name] = pa.nulls(n, col.type)
            continue
        raw = table[col.name].combine_chunks()
        typed, failed = _cast(raw, col.type, timezone)
        columns[col.name] = typed
        if failed is not None and failed.any():
            bad |= failed
            for i in map(int, np.flatnonzero(failed)):
                shown = "<masked>" if col.pii else repr(_short(raw[int(i)].as_py()))
                messages[i].append(f"bad_type: {col.name}={shown} is not {col.type}")
    for name in contract.required_columns:
        code = "missing_key" if name == contract.key else "missing_required"
        missing = pc.is_null(columns[name]).to_numpy(zero_copy_only=False)
        if name in table.column_names:
            raw_missing = pc.is_null(table[name]).to_numpy(zero_copy_only=False)
            missing = missing & raw_missing  # bad values are already reported as bad_type
        if missing.any():
            bad |= missing
            for i in map(int, np.flatnonzero(missing)):
                messages[i].append(f"{code}: {name} is empty")
    typed = pa.table(columns, schema=pa.schema([(c.name, c.type) for c in contract.columns]))
    typed = typed.append_column(LINE, table[LINE])
    typed = typed.append_column(EXTRA, pack_extra_columns(table, contract))
    if not bad.any():
        return Conformed(typed, empty_rejects())
    keep = pa.array(~bad)
    rejects = _rejects(table, np.flatnonzero(bad), messages)
    return Conformed(typed.filter(keep), rejects)


def pack_extra_columns(table: pa.Table, contract: TableContract) -> pa.Array:
    """One JSON object per row with the columns the contract does not know (else null)."""
    extra = [c for c in table.column_names if c not in contract.column_names and c != LINE]
    if not extra:
        return pa.nulls(table.num_rows, pa.string())
    from outcome_pipeline.ingest.duck import cursor

    with cursor() as con:
        con.register("extra_rows", table.select(extra))
        fields = ", ".join(
            '"' + c.replace('"', '""') + '" := "' + c.replace('"', '""') + '"' for c in extra
        )
        packed = con.sql(f"SELECT to_json(struct_pack({fields}))::VARCHAR AS j FROM extra_rows")
        return packed.to_arrow_table()["j"].combine_chunks()


def _rejects(table: pa.Table, rows: np.ndarray, messages: dict[int, list[str]]) -> pa.Table:
    subset = table.take(pa.array(rows)).drop_columns([LINE])
    records = subset.to_pylist()
    codes = [sorted({m.split(":", 1)[0] for m in messages[int(i)]}) for i in rows]
    return pa.table(
        {
            LINE: table[LINE].take(pa.array(rows)),
            "reason_code": [",".join(c) for c in codes],
            "message": ["; ".join(messages[int(i)]) for i in rows],
            "raw_record": [json.dumps(r, default=str, ensure_ascii=False) for r in records],
        }
    )


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- casts -----------------------------------------------------------------------------


def _cast(raw: pa.Array, target: pa.DataType, timezone: str) -> tuple[pa.Array, np.ndarray | None]:
    """Cast one column; return the typed array and a mask of values that failed (or None)."""
    if pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type):
        raw = _blank_to_null(raw, trim=not pa.types.is_string(target))
    if raw.type == target:
        return raw, None
    if pa.types.is_timestamp(target):
        return _to_timestamp(raw, timezone)
    try:
        return pc.cast(raw, target), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    if pa.types.is_boolean(target):
        return _to_bool(raw)
    return _to_number(raw, target)


def _blank_to_null(raw: pa.Array, trim: bool) -> pa.Array:
    """Empty text is a missing value; for typed targets whitespace-only text is too."""
    probe = pc.utf8_trim_whitespace(raw) if trim else raw
    blank = pc.equal(probe, "")
    if not pc.any(blank).as_py():
        return raw
    return pc.if_else(blank, pa.scalar(None, raw.type), raw)


def _failed(raw: pa.Array, typed: pa.Array) -> np.ndarray:
    was = pc.is_valid(raw).to_numpy(zero_copy_only=False)
    now = pc.is_valid(typed).to_numpy(zero_copy_only=False)
    return was & ~now


def _to_timestamp(raw: pa.Array, timezone: str) -> tuple[pa.Array, np.ndarray | None]:
    if pa.types.is_timestamp(raw.type):
        if raw.type.tz is None:
            raw = pc.assume_timezone(raw, timezone, ambiguous="earliest", nonexistent="latest")
        return pc.cast(raw, TS), None
    try:
        return pc.cast(raw, TS), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text = pd.Series(raw.cast(pa.string()).to_pandas(), dtype="str")
    has_offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)\s*$", regex=True, na=False)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    if has_offset.any():
        aware = pd.to_datetime(text[has_offset], utc=True, format="ISO8601", errors="coerce")
        out[has_offset] = aware.astype("datetime64[us, UTC]")
    naive_mask = ~has_offset & text.notna()
    if naive_mask.any():
        naive = pd.to_datetime(text[naive_mask], format="ISO8601", errors="coerce")
        if getattr(naive.dt, "tz", None) is None:
            local = naive.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
            out[naive_mask] = local.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    typed = pa.array(out, type=TS, from_pandas=True)
    return typed, _failed(raw, typed)


def _to_bool(raw: pa.Array) -> tuple[pa.Array, np.ndarray]:
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(raw.cast(pa.string())))
    is_true = pc.is_in(lowered, pa.array(sorted(_TRUE)))
    is_false = pc.is_in(lowered, pa.array(sorted(_FALSE)))
    typed = pc.if_else(is_true, True, pc.if_else(is_false, False, pa.scalar(None, pa.bool_())))
    return typed, _failed(raw, typed)


def _to_number(raw: pa.Array, target: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    numbers = pd.to_numeric(pd.Series(raw.to_pandas()), errors="coerce")
    if pa.types.is_integer(target):
        whole = numbers.notna() & (numbers == np.floor(numbers.fillna(0)))
        numbers = numbers.where(whole)
    typed = pa.array(numbers, from_pandas=True).cast(target)
    return typed, _failed(raw, typed)
