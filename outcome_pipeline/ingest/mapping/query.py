"""The SQL of a compiled mapping: its source scan, unnesting, checks and the one SELECT.

:func:`mapping_query` assembles what :mod:`.compile` checked into the one query over a set
of files; the caller (:mod:`.execute`) splits its Arrow result by the reason column.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from outcome_pipeline.ingest.mapping.expr import ExprError, lit
from outcome_pipeline.ingest.mapping.spec import CsvOptions, MappingFile

if TYPE_CHECKING:
    from outcome_pipeline.ingest.mapping.compile import CompiledMapping

# Reserved names of the query's own columns.
FILE_COL, LINE_COL, RAW_COL, PATH_COL = "__file", "__line", "__raw", "__path"
CODES_COL, MESSAGE_COL = "__codes", "__message"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def mapping_query(m: CompiledMapping, files: list[str], header: list[str]) -> str:
    """The whole mapping as one SELECT over ``files`` (see :meth:`CompiledMapping.query`)."""
    source, raw = _source_sql(m, files, header)
    values, last = _value_ctes(m.values)
    # Mapped columns are computed under private names first: a source field may carry
    # the same name as the contract column it fills (identity mappings). A column already
    # computed as a value (another column reads it) is that value.
    cols = ",\n  ".join(
        f"{m.values.get(c.sql, c.sql)} AS {ident('__c_' + n)}" for n, c in m.columns.items()
    )
    items = _checks(m)
    fired = _fired(items)
    required = _required(m)
    bad = " OR ".join(["__skip", "__chk", *(cond for cond, _, _ in required)])
    codes = _reasons([(c, lit(code)) for c, code, _ in items + required])
    messages = _reasons([(c, msg) for c, _, msg in items + required])
    skip = "FALSE"
    if m.skips:
        # A skipped record is set aside under its rule's reason alone: it is not mapped,
        # so what its columns would have failed is no reason.
        skip = " OR ".join(cond for cond, _, _ in m.skips)
        skip_codes = _reasons([(c, lit(r)) for c, r, _ in m.skips])
        skip_messages = _reasons([(c, msg) for c, _, msg in m.skips])
        codes = f"CASE WHEN __skip THEN {skip_codes} ELSE {codes} END"
        messages = f"CASE WHEN __skip THEN {skip_messages} ELSE {messages} END"
    out = ", ".join(f"{ident('__c_' + n)} AS {ident(n)}" for n in m.columns)
    lead = ([FILE_COL] if len(files) > 1 else []) + [LINE_COL]
    lead += [PATH_COL] if m.fmt in ("json", "jsonl") else []
    # Most rows map: a cheap boolean says which do not, and only those build their
    # reasons, their messages and their raw record (what quarantine keeps).
    return (
        f"WITH {source},{values}\n__mapped AS (SELECT *,\n  {cols},\n  {fired} AS __chk,\n"
        f"  {skip} AS __skip\n"
        f"FROM {last}),\n__checked AS (SELECT *, {bad} AS __bad FROM __mapped)\n"
        f"SELECT {', '.join(lead)}, {out},\n"
        f"  CASE WHEN __bad THEN {codes} END AS {CODES_COL},\n"
        f"  CASE WHEN __bad THEN nullif(array_to_string({messages}, '; '), '') END "
        f"AS {MESSAGE_COL},\n"
        f"  CASE WHEN __bad THEN {raw} END AS {RAW_COL}\nFROM __checked"
    )


def _value_ctes(values: dict[str, str]) -> tuple[str, str]:
    """CTEs computing the hoisted values (expr.value) after ``__rows``, and the last CTE.

    A value goes in the step after the last value it reads (one step per depth, not per
    value: each step is a projection over every row).
    """
    depth: dict[str, int] = {}
    steps: list[list[str]] = []
    for sql, name in values.items():
        reads = re.findall(r'"__v\d+"', sql)
        d = 1 + max((depth.get(r, 0) for r in reads), default=0)
        depth[name] = d
        if len(steps) < d:
            steps.append([])
        steps[d - 1].append(f"{sql} AS {name}")
    ctes, prev = "", "__rows"
    for i, step in enumerate(steps, start=1):
        ctes += f"\n__values{i} AS (SELECT *, {', '.join(step)} FROM {prev}),"
        prev = f"__values{i}"
    return ctes, prev


def typed_aliases(spec: MappingFile) -> set[str]:
    """Unnest aliases whose list is parsed straight into STRUCTs (JSON only).

    A list read from the record itself (a results page's ``conversations``) that no deeper
    unnest walks: the page is parsed once into the fields the mapping reads, and the
    elements are unnested as STRUCTs — instead of each element cut out as JSON text and
    parsed again.
    """
    if spec.source.format not in ("json", "jsonl"):
        return set()
    out = set()
    for i, u in enumerate(spec.unnest):
        parts = u.path.split(".")
        earlier = {x.alias for x in spec.unnest[:i]}
        from_root = not (parts[0] in earlier and len(parts) > 1)
        walked = any(x.path.split(".")[0] == u.alias for x in spec.unnest[i + 1 :])
        if from_root and not walked:
            out.add(u.alias)
    return out


def merge_shape(into: dict, more: dict) -> None:
    # Both come from expr_agg.shape, which already refused a name read two ways in one path;
    # across paths the same refusal is an ExprError raised there on the merged tree.
    for k, v in more.items():
        if k not in into:
            into[k] = v
        elif isinstance(v, dict) and isinstance(into[k], dict):
            merge_shape(into[k], v)
        elif isinstance(v, list) and isinstance(into[k], list) and isinstance(v[0], dict):
            if not isinstance(into[k][0], dict):
                raise ExprError((), f"{k!r} is read both as a list of values and of objects")
            merge_shape(into[k][0], v[0])
        elif v != into[k]:
            raise ExprError((), f"{k!r} is read both as a value and as a list or object")


def _checks(m: CompiledMapping) -> list[tuple[str, str, str]]:
    """(condition, reason code, message SQL) of every column check of the mapping."""
    items = [(chk.condition, chk.code, chk.message) for c in m.columns.values() for chk in c.checks]
    if m.fmt == "jsonl":
        items.insert(0, ("__json IS NULL", "malformed_row", lit("the line is not a JSON object")))
    for i, u in enumerate(m.spec.unnest, start=1):
        items.append(
            (
                f"__i{i} IS NULL AND __json IS NOT NULL",
                "empty_list",
                lit(f"the record has no element in {u.path}"),
            )
        )
    return [(cond, code, f"{lit(code + ': ')} || {msg}") for cond, code, msg in items]


def _fired(items: list[tuple[str, str, str]]) -> str:
    """TRUE where any check fires (a NULL condition does not fire)."""
    if not items:
        return "FALSE"
    return "coalesce(" + " OR ".join(f"({cond})" for cond, _, _ in items) + ", FALSE)"


def _reasons(items: list[tuple[str, str]]) -> str:
    """The sorted distinct list of the values whose condition holds on a row."""
    if not items:
        return "[]::VARCHAR[]"
    whens = ", ".join(
        f"CASE WHEN coalesce({cond}, FALSE) THEN {value} END" for cond, value in items
    )
    return f"list_sort(list_distinct(list_filter([{whens}], lambda x: x IS NOT NULL)))"


def _required(m: CompiledMapping) -> list[tuple[str, str, str]]:
    """Required columns left empty, unless a check already says why (a value failed)."""
    out = []
    for name in m.contract.required_columns:
        code = "missing_key" if name == m.contract.key else "missing_required"
        fields = ", ".join(dict.fromkeys(m.columns[name].fields)) or "no source field"
        cond = f"(NOT __chk AND {ident('__c_' + name)} IS NULL)"
        out.append((cond, code, lit(f"{code}: {name} is empty (from {fields})")))
    return out


def _files(files: list[str]) -> str:
    return "[" + ", ".join(lit(f) for f in files) + "]"


def first_line(m: CompiledMapping) -> tuple[int, int]:
    """(line of a file's first record, records to drop at the start of each file)."""
    if m.fmt == "csv":
        return (2 if m.spec.source.csv.header else 1), m.spec.source.csv.skip_after_header
    return 1, 0


def _known_columns_sql(o: CsvOptions, header: list[str]) -> str:
    """read_csv options that skip DuckDB's sniffer when the file's header is already known.

    Every dialect option is set by the mapping and the caller has read the header, so the
    sniffer would only re-read the file's start to find what is known: a fixed cost per
    file that dominates small files. Only a header DuckDB would name as written qualifies:
    it renames an empty name (``column1``) and a repeated one, case-insensitively
    (``a_1``); such a file keeps the sniffer, so it is read (or refused) as before.
    """
    if not o.header or not header or not all(header):
        return ""
    if len({h.lower() for h in header}) < len(header):
        return ""
    columns = ", ".join(f"{lit(h)}: 'VARCHAR'" for h in header)
    return f", auto_detect = false, columns = {{{columns}}}"


def _source_sql(m: CompiledMapping, files: list[str], header: list[str]) -> tuple[str, str]:
    """CTEs ending in ``__rows`` (one row per record or list element) and the raw-record SQL."""
    src = m.spec.source
    if src.format == "csv":
        o = src.csv
        raw = (
            "to_json(struct_pack(" + ", ".join(f"{ident(h)} := {ident(h)}" for h in header) + "))"
            if header
            else "NULL"
        )
        # No WITH ORDINALITY: DuckDB's streaming window (the ordinal) is not a parallel
        # operator, so it held the scan and every expression after it to one thread. The
        # result keeps the scan's order (insertion order is preserved), and the caller
        # numbers the records by their position (see execute.number_csv_records).
        return (
            f"__rows AS (SELECT *, '' AS {PATH_COL}, CAST(NULL AS BIGINT) AS {LINE_COL} "
            f"FROM read_csv({_files(files)}, "
            f"all_varchar = true, header = {lit(o.header)}, delim = {lit(o.delimiter)}, "
            f"quote = {lit(o.quote)}, escape = {lit(o.escape)}, encoding = {lit(o.encoding)}, "
            f"filename = '{FILE_COL}', ignore_errors = true, {o.limits_sql()}"
            f"store_rejects = true, rejects_table = '__rejects', rejects_scan = '__reject_scans'"
            f"{_known_columns_sql(o, header)}))"
        ), f"{raw}::VARCHAR"
    if src.format == "parquet":
        raw = (
            "to_json(struct_pack(" + ", ".join(f"{ident(h)} := {ident(h)}" for h in header) + "))"
            if header
            else "NULL"
        )
        return (
            f"__rows AS (SELECT *, '' AS {PATH_COL}, "
            f"file_row_number + 1 AS {LINE_COL} FROM read_parquet({_files(files)}, "
            f"filename = '{FILE_COL}', file_row_number = true, union_by_name = true))"
        ), f"{raw}::VARCHAR"
    if src.format == "jsonl":
        # One record per line: a line that is not JSON is one bad row, not a bad file.
        options = "format = 'newline_delimited', ignore_errors = true"
    else:
        options = f"format = '{'array' if src.json_options.layout == 'array' else 'auto'}'"
    ctes = [
        f"__records AS (SELECT json AS __json, filename AS {FILE_COL}, ordinality AS __ord "
        f"FROM read_json_objects({_files(files)}, {options}, filename = true) "
        "WITH ORDINALITY)",
        f"__r0 AS (SELECT __json, {FILE_COL}, __ord AS {LINE_COL}, "
        f"'$' AS {PATH_COL}, __json AS __e_root FROM __records)",
    ]
    prev = "__r0"
    typed = typed_aliases(m.spec)
    raws: dict[str, str] = {}
    for i, u in enumerate(m.spec.unnest, start=1):
        parts = u.path.split(".")
        bases = ["root"] + [x.alias for x in m.spec.unnest[: i - 1]]
        base = parts[0] if parts[0] in bases[1:] and len(parts) > 1 else "root"
        rest = parts[1:] if base != "root" else parts
        json_path = "$." + ".".join(ident(p) for p in rest) + "[*]"
        step = lit("." + u.path.split(".")[-1] + "[")
        listed, idx, elem = f"__list{i}", f"__i{i}", f"__e_{u.alias}"
        tree = m.structs.get(u.alias)
        if u.alias in typed and tree:
            spec: dict | list = [tree]
            for part in reversed(rest):
                spec = {part: spec}
            access = "".join("." + ident(p) for p in rest)
            ctes.append(
                f"__l{i} AS (SELECT *, json_transform(__e_root, {lit(json.dumps(spec))}){access} "
                f"AS {listed} FROM {prev})"
            )
            ctes.append(
                f"__r{i} AS (SELECT * EXCLUDE ({listed}), {listed}[{idx} + 1] AS __s_{u.alias} "
                f"FROM (SELECT *, unnest(CASE WHEN len({listed}) > 0 THEN range(len({listed})) "
                f"ELSE [NULL::BIGINT] END) AS {idx} FROM __l{i}))"
            )
            ctes.append(
                f"__p{i} AS (SELECT * EXCLUDE ({PATH_COL}), {PATH_COL} || CASE WHEN {idx} IS "
                f"NULL THEN '' ELSE {step} || {idx} || ']' END AS {PATH_COL} FROM __r{i})"
            )
            raws[u.alias] = (
                f"json_extract(__json, '$' || {lit(''.join('.' + ident(p) for p in rest))} "
                f"|| '[' || {idx} || ']')"
            )
            prev = f"__p{i}"
            continue
        ctes.append(
            f"__l{i} AS (SELECT *, json_extract(__e_{base}, {lit(json_path)}) AS {listed} "
            f"FROM {prev})"
        )
        # An empty list still yields one row (element NULL), rejected as empty_list: a record
        # never disappears silently. The list itself is unnested, never carried on every row
        # it yields (a results page of 1,000 conversations would be copied 1,000 times).
        some = f"len({listed}) > 0"
        ctes.append(
            f"__r{i} AS (SELECT * EXCLUDE ({listed}), "
            f"unnest(CASE WHEN {some} THEN {listed} ELSE [NULL::JSON] END) AS {elem}, "
            f"unnest(CASE WHEN {some} THEN range(len({listed})) ELSE [NULL::BIGINT] END) "
            f"AS {idx} FROM __l{i})"
        )
        ctes.append(
            f"__p{i} AS (SELECT * EXCLUDE ({PATH_COL}), {PATH_COL} || CASE WHEN {idx} IS NULL "
            f"THEN '' ELSE {step} || {idx} || ']' END AS {PATH_COL} FROM __r{i})"
        )
        prev = f"__p{i}"
    extracts = ", ".join(
        f"json_extract_string(__e_{base or 'root'}, [{', '.join(lit(p) for p in paths)}]) "
        f"AS __f_{base or 'root'}"
        for base, paths in m.json_paths.items()
    )
    structs = ", ".join(
        f"json_transform(__e_{base or 'root'}, {lit(json.dumps(tree))}) AS __s_{base or 'root'}"
        for base, tree in m.structs.items()
        if base not in raws
    )
    more = ", ".join(x for x in (extracts, structs) if x)
    ctes.append(f"__rows AS (SELECT *{', ' + more if more else ''} FROM {prev})")
    records = [u.alias for u in m.spec.unnest if u.record]
    if records:
        element = raws.get(records[-1], f"__e_{records[-1]}")
        return ",\n".join(ctes), f"coalesce({element}::VARCHAR, __json::VARCHAR)"
    return ",\n".join(ctes), "__json::VARCHAR"
