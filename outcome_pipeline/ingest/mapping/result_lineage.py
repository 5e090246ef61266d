"""Complete a mapping query's result with where each record came from: its file (a one-file
set), its true line past the CSV lines the reader skipped, and the raw text of JSON lines
that are not JSON.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.ingest.mapping.query import CODES_COL, FILE_COL, LINE_COL, RAW_COL


def with_file(result: pa.Table, path: str) -> pa.Table:
    """The query leaves out the file of a one-file set: ``path`` on every row, as a
    dictionary (one string, not one per row)."""
    if FILE_COL in result.column_names:
        return result
    files = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(result.num_rows, np.int32)), pa.array([path], pa.string())
    )
    return result.append_column(FILE_COL, files)


def skip_malformed_lines(result: pa.Table, malformed: pa.Table, rel_of: dict[str, str]) -> pa.Table:
    """Renumber records past the CSV lines the reader skipped, so each keeps its true line.

    The scan numbers only the records it kept; the k-th kept record of a file is the k-th
    line that is not a skipped one: line = n + #{skipped lines at or before it}, found with
    one sorted search per file (``s_i = skipped_i - i`` is non-decreasing).
    """
    abs_of = {r: a for a, r in rel_of.items()}
    files = pc.cast(result[FILE_COL], pa.string()).to_numpy(zero_copy_only=False)
    lines = result[LINE_COL].to_numpy(zero_copy_only=False).astype(np.int64)
    bad_files = malformed["source_file"].to_pylist()
    bad_lines = malformed["source_line"].to_numpy(zero_copy_only=False)
    for rel in set(bad_files):
        skipped = np.sort(bad_lines[[f == rel for f in bad_files]])
        shifted = skipped - np.arange(len(skipped))
        mask = files == abs_of.get(rel, rel)
        lines[mask] = lines[mask] + np.searchsorted(shifted, lines[mask], side="right")
    return result.set_column(
        result.column_names.index(LINE_COL), LINE_COL, pa.array(lines, pa.int64())
    )


def with_raw_lines(con: duckdb.DuckDBPyConnection, result: pa.Table) -> pa.Table:
    """Lines that are not JSON keep their text as the raw record (read only when there are some)."""
    missing = pc.and_(pc.is_null(result[RAW_COL]), pc.is_valid(result[CODES_COL]))
    if not pc.any(missing).as_py():
        return result
    bad = result.filter(missing).select([FILE_COL, LINE_COL])
    bad = bad.set_column(0, FILE_COL, pc.cast(bad[FILE_COL], pa.string()))
    con.register("__bad_lines", bad)
    files = sorted(set(bad[FILE_COL].to_pylist()))
    try:
        texts = con.sql(
            "WITH t AS (SELECT filename AS f, string_split(content, chr(10)) AS lines "
            "FROM read_text($files)) SELECT b.__file, b.__line, t.lines[b.__line] AS raw "
            "FROM __bad_lines b JOIN t ON t.f = b.__file",
            params={"files": files},
        ).to_arrow_table()
    except duckdb.Error:
        # read_text neither decompresses nor takes bytes that are not UTF-8: such a file's
        # bad lines are still rejected, with the file and line but no raw text.
        return result
    lookup = {
        (f, n): r
        for f, n, r in zip(*(texts[c].to_pylist() for c in texts.column_names), strict=True)
    }
    raws = [
        lookup.get((f, n)) if r is None else r
        for f, n, r in zip(
            result[FILE_COL].to_pylist(),
            result[LINE_COL].to_pylist(),
            result[RAW_COL].to_pylist(),
            strict=True,
        )
    ]
    return result.set_column(
        result.column_names.index(RAW_COL), RAW_COL, pa.array(raws, pa.string())
    )
