"""Compile a mapping file into ONE DuckDB query over a set of source files.

The query reads every file of the set with DuckDB's own scanner (``read_csv``,
``read_json_objects``, ``read_parquet``), numbers records per file, unnests lists, computes
every contract column and, beside them, the reasons a row cannot be mapped. Nothing runs per
row in Python: the caller splits the one Arrow result by the reason column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from outcome_pipeline.contracts import CONTRACTS, TableContract
from outcome_pipeline.ingest.mapping.expr import (
    BOOL,
    FLOAT,
    INT,
    TEXT,
    TIMESTAMP,
    Compiled,
    Context,
    ExprError,
    compile_expr,
    lit,
    to_kind,
)
from outcome_pipeline.ingest.mapping.spec import (
    CsvOptions,
    MappingError,
    MappingFile,
    Skip,
    load_mapping_file,
    locate,
)

# Reserved names of the query's own columns.
FILE_COL, LINE_COL, RAW_COL, PATH_COL = "__file", "__line", "__raw", "__path"
CODES_COL, MESSAGE_COL = "__codes", "__message"
# Reason codes the engine itself gives a row; a skip rule names its own.
ENGINE_REASONS = frozenset(
    {
        "bad_type",
        "unknown_value",
        "missing_required",
        "missing_key",
        "malformed_row",
        "bad_encoding",
        "empty_list",
    }
)


def _kind(contract: TableContract, name: str) -> str:
    import pyarrow as pa

    t = contract.column(name).type
    if pa.types.is_timestamp(t):
        return TIMESTAMP
    if pa.types.is_integer(t):
        return INT
    if pa.types.is_floating(t):
        return FLOAT
    if pa.types.is_boolean(t):
        return BOOL
    return TEXT


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class CompiledMapping:
    """A checked mapping: its identity, its source options and its columns as SQL."""

    path: Path
    spec: MappingFile
    contract: TableContract
    timezone: str
    columns: dict[str, Compiled]
    fields: set[str]
    json_paths: dict[str, list[str]] = field(default_factory=dict)  # base -> extracted paths
    structs: dict[str, dict] = field(default_factory=dict)  # base -> parsed structure
    # (condition, reason code, message SQL) of each [[skip]] rule, in file order.
    skips: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.source.name

    @property
    def version(self) -> str:
        return self.spec.source.version

    @property
    def lineage(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def fmt(self) -> str:
        return self.spec.source.format

    def query(self, files: list[str], header: list[str] | None = None) -> str:
        """The whole mapping as one SELECT over ``files`` (absolute paths).

        With one file the result has no ``__file`` column (it would repeat the one path on
        every row), and a CSV or Parquet source has no ``__path`` (always empty). With several
        CSV or JSON files ``__line`` numbers records across the set, in file order: see
        :func:`execute.lines_per_file`.
        """
        source, raw = _source_sql(self, files, header or [])
        # Mapped columns are computed under private names first: a source field may carry
        # the same name as the contract column it fills (identity mappings).
        cols = ",\n  ".join(f"{c.sql} AS {ident('__c_' + n)}" for n, c in self.columns.items())
        items = _checks(self)
        fired = _fired(items)
        required = _required(self)
        bad = " OR ".join(["__skip", "__chk", *(cond for cond, _, _ in required)])
        codes = _reasons([(c, lit(code)) for c, code, _ in items + required])
        messages = _reasons([(c, msg) for c, _, msg in items + required])
        skip = "FALSE"
        if self.skips:
            # A skipped record is set aside under its rule's reason alone: it is not mapped,
            # so what its columns would have failed is no reason.
            skip = " OR ".join(cond for cond, _, _ in self.skips)
            codes = (
                f"CASE WHEN __skip THEN {_reasons([(c, lit(r)) for c, r, _ in self.skips])} "
                f"ELSE {codes} END"
            )
            messages = (
                f"CASE WHEN __skip THEN {_reasons([(c, m) for c, _, m in self.skips])} "
                f"ELSE {messages} END"
            )
        out = ", ".join(f"{ident('__c_' + n)} AS {ident(n)}" for n in self.columns)
        lead = ([FILE_COL] if len(files) > 1 else []) + [LINE_COL]
        lead += [PATH_COL] if self.fmt in ("json", "jsonl") else []
        # Most rows map: a cheap boolean says which do not, and only those build their
        # reasons, their messages and their raw record (what quarantine keeps).
        return (
            f"WITH {source},\n__mapped AS (SELECT *,\n  {cols},\n  {fired} AS __chk,\n"
            f"  {skip} AS __skip\n"
            f"FROM __rows),\n__checked AS (SELECT *, {bad} AS __bad FROM __mapped)\n"
            f"SELECT {', '.join(lead)}, {out},\n"
            f"  CASE WHEN __bad THEN {codes} END AS {CODES_COL},\n"
            f"  CASE WHEN __bad THEN nullif(array_to_string({messages}, '; '), '') END "
            f"AS {MESSAGE_COL},\n"
            f"  CASE WHEN __bad THEN {raw} END AS {RAW_COL}\nFROM __checked"
        )


def compile_mapping(path: Path, business_timezone: str) -> CompiledMapping:
    """Load, check and compile one mapping file; raise :class:`MappingError` on any mistake."""
    spec, text = load_mapping_file(path)
    src = spec.source
    name = str(path)
    if src.table not in CONTRACTS:
        raise MappingError(
            name,
            "source.table",
            f"unknown contract table {src.table!r}; one of {', '.join(CONTRACTS)}",
            locate(text, ("source", "table")),
        )
    if spec.unnest and src.format not in ("json", "jsonl"):
        raise MappingError(name, "unnest", "unnest needs JSON records", locate(text, ("unnest",)))
    contract = CONTRACTS[src.table]
    compiler = _Compiler(spec, contract, src.timezone or business_timezone)
    try:
        columns = compiler.all()
    except ExprError as exc:
        key = "columns." + ".".join(exc.key)
        raise MappingError(name, key, str(exc), locate(text, ("columns", *exc.key))) from None
    skips = []
    for i, rule in enumerate(spec.skip):
        try:
            skips.append(compiler.skip(rule, i))
        except ExprError as exc:
            key = ".".join(("skip", str(i), *exc.key))
            raise MappingError(name, key, str(exc), locate(text, ("skip", *exc.key))) from None
    missing = [c for c in contract.required_columns if c not in columns]
    if missing:
        raise MappingError(
            name,
            "columns",
            f"required contract column(s) of {contract.name} not mapped: {', '.join(missing)}",
            locate(text, ("columns",)),
        )
    return CompiledMapping(
        path,
        spec,
        contract,
        src.timezone or business_timezone,
        columns,
        compiler.fields,
        compiler.json_paths,
        compiler.structs,
        skips,
    )


class _Compiler:
    """Compiles every column once, resolving ``column = "..."`` references (no cycles)."""

    def __init__(self, spec: MappingFile, contract: TableContract, timezone: str) -> None:
        self.spec, self.contract, self.timezone = spec, contract, timezone
        self.done: dict[str, Compiled] = {}
        self.active: list[str] = []
        self.fields: set[str] = set()
        self.json_paths: dict[str, list[str]] = {}
        self.aliases = [u.alias for u in spec.unnest]
        self.structs: dict[str, dict] = {}  # base -> JSON structure aggregates read
        self.typed = typed_aliases(spec)

    def all(self) -> dict[str, Compiled]:
        for name in self.spec.columns:
            self.column(name, (name,))
        return {n: self.done[n] for n in self.contract.column_names if n in self.done}

    def column(self, name: str, key: tuple[str, ...]) -> Compiled:
        if name in self.done:
            return self.done[name]
        is_let = name in self.spec.let and name not in self.spec.columns
        if name not in self.contract.column_names and not is_let:
            known = ", ".join(self.contract.column_names)
            raise ExprError(
                key, f"{name!r} is neither a column of {self.contract.name} ({known}) nor a let"
            )
        if name not in self.spec.columns and not is_let:
            raise ExprError(key, f"column {name!r} is referenced but not mapped")
        if name in self.active:
            raise ExprError(
                key, f"columns refer to each other in a cycle: {' -> '.join([*self.active, name])}"
            )
        self.active.append(name)
        pii = name in self.contract.column_names and self.contract.column(name).pii
        ctx = Context(
            self.field_sql,
            self.column,
            self.timezone,
            column_name=name,
            pii=pii,
            json_struct=self.json_struct if self.spec.source.format in ("json", "jsonl") else None,
        )
        if is_let:
            ctx.column_name = name
            compiled = compile_expr(self.spec.let[name], (name,), ctx)
        else:
            compiled = compile_expr(self.spec.columns[name], (name,), ctx)
            compiled = to_kind(compiled, _kind(self.contract, name), (name,), ctx)
        self.fields |= ctx.used_fields
        self.active.pop()
        self.done[name] = compiled
        return compiled

    def skip(self, rule: Skip, index: int) -> tuple[str, str, str]:
        """One [[skip]] rule as (condition, reason code, message SQL)."""
        key = ("when",)
        if rule.reason in ENGINE_REASONS:
            raise ExprError(
                ("reason",),
                f"reason {rule.reason!r} is one of the engine's own codes "
                f"({', '.join(sorted(ENGINE_REASONS))}); name why these records are skipped",
            )
        ctx = Context(
            self.field_sql,
            self.column,
            self.timezone,
            column_name=f"skip {index + 1}",
            json_struct=self.json_struct if self.spec.source.format in ("json", "jsonl") else None,
        )
        when = compile_expr(rule.when, key, ctx)
        if when.kind != BOOL:
            raise ExprError(key, "when needs a boolean (present, missing, bool, map, all, any)")
        self.fields |= ctx.used_fields
        # A condition that cannot be read (a value that does not parse) does not skip: the
        # row is mapped and its own checks say what is wrong.
        note = rule.note or "the mapping's skip rule holds for this record"
        return f"coalesce({when.sql}, FALSE)", rule.reason, lit(f"{rule.reason}: {note}")

    def json_struct(self, alias: str, fields: dict | None) -> str | None:
        """The element an aggregate reads (an unnest alias's, or the record's with ""),
        parsed into a STRUCT that holds ``fields`` merged with what others read of it."""
        if alias and alias not in self.aliases:
            return None
        if fields is not None:
            _merge_shape(self.structs.setdefault(alias, {}), fields)
        return f"__s_{alias or 'root'}"

    def field_sql(self, path: str) -> str:
        fmt = self.spec.source.format
        if fmt in ("csv", "parquet"):
            return f"CAST({ident(path)} AS VARCHAR)"
        parts = path.split(".")
        base = parts[0] if parts[0] in self.aliases and len(parts) > 1 else ""
        rest = parts[1:] if base else parts
        if base in self.typed:
            # Read from the element already parsed into a STRUCT (see typed_aliases).
            tree: dict = {}
            node = tree
            for part in rest[:-1]:
                node = node.setdefault(part, {})
            node[rest[-1]] = "VARCHAR"
            try:
                _merge_shape(self.structs.setdefault(base, {}), tree)
            except ExprError as exc:
                raise ExprError((), f"field {path}: {exc}") from None
            return f"CAST(__s_{base}{''.join('.' + ident(p) for p in rest)} AS VARCHAR)"
        json_path = "$." + ".".join(ident(p) for p in rest)
        paths = self.json_paths.setdefault(base, [])
        if json_path not in paths:
            paths.append(json_path)
        return f"__f_{base or 'root'}[{paths.index(json_path) + 1}]"


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


def _merge_shape(into: dict, more: dict) -> None:
    # Both come from expr_agg.shape, which already refused a name read two ways in one path;
    # across paths the same refusal is an ExprError raised there on the merged tree.
    for k, v in more.items():
        if k not in into:
            into[k] = v
        elif isinstance(v, dict) and isinstance(into[k], dict):
            _merge_shape(into[k], v)
        elif isinstance(v, list) and isinstance(into[k], list) and isinstance(v[0], dict):
            if not isinstance(into[k][0], dict):
                raise ExprError((), f"{k!r} is read both as a list of values and of objects")
            _merge_shape(into[k][0], v[0])
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
        first, skip = first_line(m)
        # One file: its records are numbered by the scan. Several: the scan numbers records
        # across the set, and the caller renumbers them per file (a window partitioned by
        # file would hold the whole set in memory; see execute.lines_per_file).
        numbered = (
            f"__ord + {first - 1} AS {LINE_COL} FROM __records WHERE __ord > {skip}"
            if len(files) == 1
            else f"__ord AS {LINE_COL} FROM __records"
        )
        return (
            f"__records AS (SELECT *, ordinality AS __ord FROM read_csv({_files(files)}, "
            f"all_varchar = true, header = {lit(o.header)}, delim = {lit(o.delimiter)}, "
            f"quote = {lit(o.quote)}, escape = {lit(o.escape)}, encoding = {lit(o.encoding)}, "
            f"filename = '{FILE_COL}', ignore_errors = true, {o.limits_sql()}"
            f"store_rejects = true, rejects_table = '__rejects', rejects_scan = '__reject_scans'"
            f"{_known_columns_sql(o, header)}) WITH ORDINALITY),\n"
            f"__rows AS (SELECT * EXCLUDE (__ord), '' AS {PATH_COL}, "
            f"{numbered})"
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
