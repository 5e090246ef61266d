"""Compile a mapping file into ONE DuckDB query over a set of source files.

The query reads every file of the set with DuckDB's own scanner (``read_csv``,
``read_json_objects``, ``read_parquet``), numbers records per file, unnests lists, computes
every contract column and, beside them, the reasons a row cannot be mapped. Nothing runs per
row in Python: the caller splits the one Arrow result by the reason column.
"""

from __future__ import annotations

from collections.abc import Callable
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
from outcome_pipeline.ingest.mapping.query import (
    ident,
    mapping_query,
    merge_shape,
    typed_aliases,
)
from outcome_pipeline.ingest.mapping.spec import (
    MappingError,
    MappingFile,
    Skip,
    load_mapping_file,
    locate,
)

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
    # Values computed once per row before the columns (expr.value): SQL -> name, in the
    # order they were compiled (a value names only values before it).
    values: dict[str, str] = field(default_factory=dict)
    # Every column is its source field unchanged (a native contract's identity mapping):
    # a Parquet file then needs no query (see execute.read_parquet_identity).
    identity: bool = False

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
        return mapping_query(self, files, header or [])


def compile_mapping(path: Path, business_timezone: str, text: str | None = None) -> CompiledMapping:
    """Load, check and compile one mapping file; raise :class:`MappingError` on any mistake.

    ``text``: the mapping's TOML when it is generated rather than read from ``path``.
    """
    spec, text = load_mapping_file(path, text)
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
        compiler.values,
    )


def compile_verbatim(
    path: Path,
    spec: MappingFile,
    contract: TableContract,
    timezone: str,
    wrap: Callable[[str, str], str] | None = None,
) -> CompiledMapping:
    """A mapping whose every column of ``contract`` is the source field of the same name,
    verbatim: no trimming, no blank to NULL, no type or check (a generated identity mapping,
    whose caller applies the contract's own typing afterwards).

    Fields are read as the compiler reads them for ``spec``'s format; ``wrap(field, sql)``
    may replace a field's SQL (a Parquet column kept in its own type).
    """
    compiler = _Compiler(spec, contract, timezone)
    columns = {}
    for name in contract.column_names:
        sql = compiler.field_sql(name)
        columns[name] = Compiled(wrap(name, sql) if wrap else sql, TEXT, (), (name,))
    return CompiledMapping(
        path,
        spec,
        contract,
        timezone,
        columns,
        compiler.fields | set(columns),
        compiler.json_paths,
        compiler.structs,
        identity=True,
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
        self.values: dict[str, str] = {}  # SQL -> name (see expr.value)

    def hoist(self, sql: str) -> str:
        if sql in self.values.values():
            return sql  # already a value
        if sql not in self.values:
            self.values[sql] = ident(f"__v{len(self.values) + 1}")
        return self.values[sql]

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
            hoist=self.hoist,
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
            hoist=self.hoist,
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
            merge_shape(self.structs.setdefault(alias, {}), fields)
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
                merge_shape(self.structs.setdefault(base, {}), tree)
            except ExprError as exc:
                raise ExprError((), f"field {path}: {exc}") from None
            return f"CAST(__s_{base}{''.join('.' + ident(p) for p in rest)} AS VARCHAR)"
        json_path = "$." + ".".join(ident(p) for p in rest)
        paths = self.json_paths.setdefault(base, [])
        if json_path not in paths:
            paths.append(json_path)
        return f"__f_{base or 'root'}[{paths.index(json_path) + 1}]"
