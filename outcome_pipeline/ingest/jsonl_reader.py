"""Read a JSON lines landing file as contract columns with its line numbers: Arrow's reader
when the file is clean, line by line (DuckDB) when it is not.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.ingest.lines import (
    MAX_LINE_BYTES,
    iter_lines,
    long_lines,
    open_bytes,
    truncated,
)
from outcome_pipeline.ingest.raw_file import LINE, MalformedLine, RawFile, arrow_source


def read_jsonl(path: Path, contract: TableContract, compression: str | None) -> RawFile:
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
            arrow_source(path, compression),
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
    malformed = malformed_jsonl(path, compression, set(bad_lines["line"].to_pylist()))
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


def malformed_jsonl(path: Path, compression: str | None, lines: set[int]) -> list[MalformedLine]:
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
