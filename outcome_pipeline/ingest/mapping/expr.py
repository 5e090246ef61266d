"""Mapping expressions: parsed from the TOML value of a contract column, compiled to DuckDB SQL.

An expression is a bare string (a source field, ``Agent.ConnectedToAgentTimestamp``) or an
inline table with one operator key (``const``, ``concat``, ``timestamp``, ``date`` + ``time``,
``plus_seconds``, ``seconds_between``, ``int``, ``float``, ``bool``, ``map``, ``coalesce``,
``column``, ``if``, ``present``, ``missing``, ``all``, ``any``; aggregates over nested lists
``first``, ``last``, ``min``, ``max``, ``sum``, ``count`` in :mod:`expr_agg`). Compiling yields
one SQL expression over the whole file set plus the checks that flag a row which cannot be
mapped (value, reason code, message naming the source field): rows are split by those flags,
never by a Python loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from outcome_pipeline.ingest.mapping.spec import unknown_key

TEXT, TIMESTAMP, INT, FLOAT, BOOL = "text", "timestamp", "int", "float", "bool"
_SQL_TYPE = {TEXT: "VARCHAR", INT: "BIGINT", FLOAT: "DOUBLE", BOOL: "BOOLEAN"}
_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")
_OFFSET = r"(Z|z|[+-]\d\d(:?\d\d)?)$"


class ExprError(ValueError):
    """A malformed expression; ``key`` is the path under ``columns`` (for the line lookup)."""

    def __init__(self, key: tuple[str, ...], message: str) -> None:
        self.key = key
        super().__init__(message)


@dataclass(frozen=True)
class Check:
    """A row is rejected where ``condition`` holds; ``message`` is a SQL text expression."""

    condition: str
    code: str
    message: str


@dataclass(frozen=True)
class Compiled:
    sql: str
    kind: str
    checks: tuple[Check, ...] = ()
    fields: tuple[str, ...] = ()  # source fields read, for messages and file checks


@dataclass
class Context:
    """What compiling needs from the mapping: field access, other columns, zones."""

    field_sql: Callable[[str], str]
    column: Callable[[str, tuple[str, ...]], Compiled]
    timezone: str
    column_name: str = ""
    used_fields: set[str] = field(default_factory=set)
    pii: bool = False  # the column holds personal data: messages never show its values
    # JSON records only: (unnest alias or "" for the record, fields to parse) -> the SQL of
    # that element parsed once into a STRUCT holding those fields (None: not an alias).
    # Called with None fields to ask whether a name is an alias. None when not JSON.
    json_struct: Callable[[str, dict | None], str | None] | None = None
    # Computes a value once per row before the columns (see :func:`value`); None: inline.
    hoist: Callable[[str], str] | None = None


def value(sql: str, ctx: Context) -> str:
    """``sql`` as a value computed once per row, in a step before the columns.

    A mapping reads one value in many places (a day in every time of a call log, a ``let``
    in four columns, a parsed value in its column and in its check). DuckDB shares repeated
    subexpressions, but not inside CASE (short-circuiting), where most of them sit: inlined,
    each use parsed the text and converted the zone again. Only whole values that cannot
    fail are hoisted (a trimmed field, a ``try_`` parse, a zone conversion, a column), so
    computing one for every row changes no result.
    """
    return ctx.hoist(sql) if ctx.hoist else sql


def lit(value: Any) -> str:
    """A SQL literal for a TOML scalar."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _shown(sql: str, ctx: Context) -> str:
    # The offending value inside the message, quoted and cut to 60 characters; the raw record
    # (quarantine only) keeps it, the message (logs, checks) never shows personal data.
    if ctx.pii:
        return "'<masked>'"
    return f"'''' || left(CAST({sql} AS VARCHAR), 60) || ''''"


_OPERATORS = {
    "field": {"field", "null_if"},
    "const": {"const"},
    "concat": {"concat", "sep"},
    "timestamp": {"timestamp", "format", "timezone"},
    "date": {"date", "time", "date_format", "time_format", "timezone", "not_before"},
    "plus_seconds": {"plus_seconds"},
    "seconds_between": {"seconds_between"},
    "int": {"int"},
    "float": {"float"},
    "bool": {"bool", "true", "false"},
    "map": {"map", "values", "default", "unmapped"},
    "coalesce": {"coalesce"},
    "column": {"column"},
    "if": {"if", "then", "else"},
    "present": {"present"},
    "missing": {"missing"},
    "all": {"all"},
    "any": {"any"},
    **{
        op: {op, "as", "scale", "timezone"}
        for op in ("first", "last", "min", "max", "sum", "count")
    },
}


def compile_expr(value: Any, key: tuple[str, ...], ctx: Context) -> Compiled:
    """Compile the TOML ``value`` found at ``columns.<key>``."""
    if isinstance(value, str):
        return _field(value, (), ctx)
    if not isinstance(value, dict):
        raise ExprError(
            key,
            f"expected a source field name or an inline table with one of "
            f"{', '.join(sorted(_OPERATORS))}, found {value!r}",
        )
    ops = [k for k in value if k in _OPERATORS]
    if len(ops) != 1:
        if not ops:
            bad = next(iter(value), "")
            raise ExprError((*key, str(bad)), unknown_key(str(bad), set(_OPERATORS)))
        raise ExprError(key, f"one operator per expression, found {', '.join(ops)}")
    op = ops[0]
    for k in value:
        if k not in _OPERATORS[op]:
            raise ExprError((*key, k), unknown_key(k, _OPERATORS[op]))
    return _COMPILERS[op](value, key, ctx)


def _field(path: str, null_if: tuple[Any, ...], ctx: Context) -> Compiled:
    ctx.used_fields.add(path)
    x = value(ctx.field_sql(path), ctx)
    # trim() writes a new string even when there is nothing to trim (~0.1 µs a value above
    # 12 bytes); a value that neither starts nor ends with a space is its own trim.
    sql = value(
        f"nullif(CASE WHEN {x} LIKE ' %' OR {x} LIKE '% ' THEN trim({x}) ELSE {x} END, '')", ctx
    )
    if null_if:
        empty = ", ".join(lit(str(v)) for v in null_if)
        sql = value(f"CASE WHEN {sql} IN ({empty}) THEN NULL ELSE {sql} END", ctx)
    return Compiled(sql, TEXT, fields=(path,))


def _c_field(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    if not isinstance(v["field"], str):
        raise ExprError((*key, "field"), "a field is a name (text)")
    null_if = v.get("null_if", [])
    if not isinstance(null_if, list):
        raise ExprError((*key, "null_if"), "null_if is a list of values read as empty")
    return _field(v["field"], tuple(null_if), ctx)


def _c_const(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    c = v["const"]
    kind = BOOL if isinstance(c, bool) else INT if isinstance(c, int) else TEXT
    kind = FLOAT if isinstance(c, float) else kind
    if not isinstance(c, str | int | float | bool):
        raise ExprError((*key, "const"), f"const must be text, a number or a boolean: {c!r}")
    return Compiled(lit(c), kind)


def _parts(v: Any, key: tuple[str, ...], ctx: Context, n: int | None = None) -> list[Compiled]:
    if not isinstance(v, list) or (n is not None and len(v) != n) or not v:
        raise ExprError(key, f"expected a list of {n or 'one or more'} expressions")
    return [compile_expr(p, (*key, str(i)), ctx) for i, p in enumerate(v)]


def _merge(parts: list[Compiled]) -> tuple[tuple[Check, ...], tuple[str, ...]]:
    checks = tuple(c for p in parts for c in p.checks)
    fields = tuple(f for p in parts for f in p.fields)
    return checks, fields


def _c_concat(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    parts = _parts(v["concat"], (*key, "concat"), ctx)
    sep = lit(str(v.get("sep", "")))
    # NULL when any part is missing: an id made of parts is only unique with all of them.
    sql = f" || {sep} || ".join(f"CAST({p.sql} AS VARCHAR)" for p in parts)
    return Compiled(f"({sql})", TEXT, *_merge(parts))


def _parsed(raw: Compiled, sql: str, kind: str, what: str, ctx: Context) -> Compiled:
    names = ", ".join(raw.fields) or "value"
    sql = value(sql, ctx)  # the column and its check read the one parse
    check = Check(
        f"({raw.sql}) IS NOT NULL AND ({sql}) IS NULL",
        "bad_type",
        f"'{ctx.column_name}: source field {names}=' || {_shown(raw.sql, ctx)} || ' is not {what}'",
    )
    return Compiled(sql, kind, (*raw.checks, check), raw.fields)


def _c_int(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    return to_kind(compile_expr(v["int"], (*key, "int"), ctx), INT, key, ctx)


def _c_float(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    return to_kind(compile_expr(v["float"], (*key, "float"), ctx), FLOAT, key, ctx)


def _c_bool(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    raw = compile_expr(v["bool"], (*key, "bool"), ctx)
    trues, falses = v.get("true", list(_TRUE)), v.get("false", list(_FALSE))
    sql = _bool_case(raw.sql, [str(t) for t in trues], [str(f) for f in falses])
    return _parsed(raw, sql, BOOL, "a boolean", ctx)


def _c_map(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    raw = compile_expr(v["map"], (*key, "map"), ctx)
    values = v.get("values")
    if not isinstance(values, dict) or not values:
        raise ExprError((*key, "values"), "values is a table: source code = contract value")
    unmapped = v.get("unmapped", "default" if "default" in v else "quarantine")
    if unmapped not in ("quarantine", "null", "default"):
        raise ExprError((*key, "unmapped"), "unmapped is quarantine, null or default")
    if unmapped == "default" and "default" not in v:
        raise ExprError((*key, "default"), "unmapped = default needs a default value")
    kinds = {type(x) for x in values.values()}
    if len(kinds) != 1:
        raise ExprError((*key, "values"), "every mapped value must have the same type")
    out = next(iter(values.values()))
    kind = BOOL if isinstance(out, bool) else INT if isinstance(out, int) else TEXT
    x = f"CAST({raw.sql} AS VARCHAR)"
    whens = " ".join(f"WHEN {lit(str(s))} THEN {lit(t)}" for s, t in values.items())
    default = lit(v["default"]) if unmapped == "default" else "NULL"
    sql = f"(CASE {x} {whens} ELSE {default} END)"
    checks = raw.checks
    if unmapped == "quarantine":
        names = ", ".join(raw.fields) or "value"
        known = f"({', '.join(lit(str(s)) for s in values)})"
        checks += (
            Check(
                f"{x} IS NOT NULL AND {x} NOT IN {known}",
                "unknown_value",
                f"'{ctx.column_name}: source field {names}=' || {_shown(x, ctx)} "
                "|| ' has no mapping'",
            ),
        )
    return Compiled(sql, kind, checks, raw.fields)


def _c_coalesce(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    parts = _parts(v["coalesce"], (*key, "coalesce"), ctx)
    kinds = {p.kind for p in parts}
    if len(kinds) != 1:
        raise ExprError(key, f"coalesce needs parts of one type, found {sorted(kinds)}")
    # A part that failed to parse is not a missing value: its check still rejects the row.
    return Compiled(f"coalesce({', '.join(p.sql for p in parts)})", parts[0].kind, *_merge(parts))


def _c_column(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    name = v["column"]
    if not isinstance(name, str):
        raise ExprError((*key, "column"), "column names another contract column")
    ref = ctx.column(name, (*key, "column"))
    # The referenced column's own checks already run on that column; do not repeat them.
    return Compiled(value(ref.sql, ctx), ref.kind, (), ref.fields)


def _c_if(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    cond = compile_expr(v["if"], (*key, "if"), ctx)
    if cond.kind != BOOL:
        raise ExprError((*key, "if"), "if needs a boolean (present, missing, bool, map, all, any)")
    if "then" not in v:
        raise ExprError(key, "if needs then (and optionally else)")
    then = compile_expr(v["then"], (*key, "then"), ctx)
    other = compile_expr(v["else"], (*key, "else"), ctx) if "else" in v else None
    if other is not None and other.kind != then.kind:
        raise ExprError(key, f"then is a {then.kind}, else a {other.kind}: they must agree")
    otherwise = other.sql if other else "NULL"
    sql = f"CASE WHEN coalesce({cond.sql}, FALSE) THEN {then.sql} ELSE {otherwise} END"
    parts = [cond, then] + ([other] if other else [])
    return Compiled(sql, then.kind, *_merge(parts))


def _c_present(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    p = compile_expr(v["present"], (*key, "present"), ctx)
    return Compiled(f"(({p.sql}) IS NOT NULL)", BOOL, p.checks, p.fields)


def _c_missing(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    p = compile_expr(v["missing"], (*key, "missing"), ctx)
    return Compiled(f"(({p.sql}) IS NULL)", BOOL, p.checks, p.fields)


def _logical(op: str) -> Callable[[dict, tuple[str, ...], Context], Compiled]:
    def compile_logical(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
        parts = _parts(v[op], (*key, op), ctx)
        if any(p.kind != BOOL for p in parts):
            raise ExprError((*key, op), f"{op} combines booleans (present, missing, bool, map)")
        joiner = " AND " if op == "all" else " OR "
        return Compiled("(" + joiner.join(f"({p.sql})" for p in parts) + ")", BOOL, *_merge(parts))

    return compile_logical


def to_kind(c: Compiled, kind: str, key: tuple[str, ...], ctx: Context) -> Compiled:
    """Coerce a compiled expression to a contract column's kind (text is parsed)."""
    if c.kind == kind:
        return c
    if kind == TEXT:
        return Compiled(f"CAST({c.sql} AS VARCHAR)", TEXT, c.checks, c.fields)
    if kind == TIMESTAMP:
        from outcome_pipeline.ingest.mapping.expr_time import to_timestamp

        return to_timestamp(c, "iso8601", ctx.timezone, key, ctx)
    if kind == BOOL:
        if c.kind != TEXT:
            raise ExprError(key, f"cannot use a {c.kind} as a boolean")
        return _bool_text(c, ctx)
    if kind in (INT, FLOAT) and c.kind in (INT, FLOAT):
        return Compiled(f"CAST({c.sql} AS {_SQL_TYPE[kind]})", kind, c.checks, c.fields)
    if c.kind != TEXT:
        raise ExprError(key, f"cannot use a {c.kind} as {kind}")
    if kind == INT:
        # 12.0 is a whole number; 12.5 is not.
        d = value(f"try_cast({c.sql} AS DOUBLE)", ctx)
        sql = f"CASE WHEN {d} = round({d}) THEN CAST({d} AS BIGINT) END"
        return _parsed(c, sql, INT, "a whole number", ctx)
    return _parsed(c, f"try_cast({c.sql} AS DOUBLE)", FLOAT, "a number", ctx)


def _bool_text(c: Compiled, ctx: Context) -> Compiled:
    return _parsed(c, _bool_case(c.sql, list(_TRUE), list(_FALSE)), BOOL, "a boolean", ctx)


def _bool_case(sql: str, trues: list[str], falses: list[str]) -> str:
    # A simple CASE rather than two IN lists: DuckDB plans an IN list as a join against
    # its values, which costs more per row than comparing a handful of constants.
    whens = [f"WHEN {lit(t.lower())} THEN TRUE" for t in trues]
    whens += [f"WHEN {lit(f.lower())} THEN FALSE" for f in falses]
    return f"CASE lower(CAST({sql} AS VARCHAR)) {' '.join(whens)} END"


# The time operators and the aggregates live in expr_time and expr_agg (they import this
# module, hence the late imports).
from outcome_pipeline.ingest.mapping.expr_agg import AGGREGATES, compile_aggregate  # noqa: E402
from outcome_pipeline.ingest.mapping.expr_time import (  # noqa: E402
    _c_date,
    _c_plus_seconds,
    _c_seconds_between,
    _c_timestamp,
)


def _aggregate(op: str) -> Callable[[dict, tuple[str, ...], Context], Compiled]:
    return lambda v, key, ctx: compile_aggregate(op, v, key, ctx)


_COMPILERS: dict[str, Callable[[dict, tuple[str, ...], Context], Compiled]] = {
    "field": _c_field,
    "const": _c_const,
    "concat": _c_concat,
    "timestamp": _c_timestamp,
    "date": _c_date,
    "plus_seconds": _c_plus_seconds,
    "seconds_between": _c_seconds_between,
    "int": _c_int,
    "float": _c_float,
    "bool": _c_bool,
    "map": _c_map,
    "coalesce": _c_coalesce,
    "column": _c_column,
    "if": _c_if,
    "present": _c_present,
    "missing": _c_missing,
    "all": _logical("all"),
    "any": _logical("any"),
    **{op: _aggregate(op) for op in AGGREGATES},
}
