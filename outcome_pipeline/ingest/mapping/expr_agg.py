"""Aggregates over nested lists of a JSON record: ``first``, ``last``, ``min``, ``max``, ``sum``,
``count``.

A record that nests lists (a Genesys Cloud conversation: participants, their sessions, their
segments and metrics) often gives one contract row from many list elements: the queue entry
is the earliest ``acd`` segment, the talk time the sum of the agents' ``tTalkComplete``
metrics. The path names every level, and any level may keep only some elements::

    c.participants[purpose=agent].sessions[].segments[segmentType=interact|hold].segmentStart

``name[]`` walks every element of the list ``name``; ``name[key=a|b, other!=c]`` keeps the
elements whose ``key`` is ``a`` or ``b`` and whose ``other`` is not ``c`` (a missing field
is never equal). The part after the last list is the field read from each element. The first
part may be an ``[[unnest]]`` alias (the list is then read from that element).

The record (or the unnested element) is parsed once per row into a typed nested STRUCT of
just the fields the mapping's aggregates read (``json_transform``); each aggregate is then one
DuckDB expression over it (``list_filter`` / ``list_transform`` / ``flatten``): vectorised,
no Python per row, no JSON re-parsed per aggregate.
``as`` types the values (``text``, ``timestamp``, ``number``) before ``min``/``max``/
``first``/``last`` compare or pick them; ``sum`` is numeric; ``scale`` multiplies a numeric
result (``0.001``: milliseconds to seconds). A value that does not parse rejects the row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from outcome_pipeline.ingest.mapping.expr import (
    _OFFSET,
    FLOAT,
    INT,
    TEXT,
    TIMESTAMP,
    Check,
    Compiled,
    Context,
    ExprError,
    _shown,
    lit,
)

AGGREGATES = ("first", "last", "min", "max", "sum", "count")
_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(\[(.*)\])?$")
_FILTER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(!=|=)\s*(.*?)\s*$")


@dataclass(frozen=True)
class _Step:
    name: str
    is_list: bool
    filters: tuple[tuple[str, bool, tuple[str, ...]], ...] = ()  # (field, equal, values)


def _split(path: str) -> list[str]:
    """Split on dots outside brackets (a filter value may hold a dot)."""
    parts, depth, cur = [], 0, ""
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "." and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def parse_path(path: Any, key: tuple[str, ...]) -> list[_Step]:
    if not isinstance(path, str) or not path.strip():
        raise ExprError(key, "an aggregate reads a path (text), e.g. participants[].userId")
    steps = []
    for part in _split(path.strip()):
        m = _NAME.match(part)
        if not m:
            raise ExprError(key, f"bad path part {part!r} in {path!r}: name, name[] or name[k=v]")
        filters = []
        if m.group(3):
            for clause in m.group(3).split(","):
                f = _FILTER.match(clause)
                if not f or not f.group(3):
                    raise ExprError(key, f"bad filter {clause!r} in {path!r}: key=value|value")
                values = tuple(v.strip() for v in f.group(3).split("|"))
                filters.append((f.group(1), f.group(2) == "=", values))
        steps.append(_Step(m.group(1), m.group(2) is not None, tuple(filters)))
    if not any(s.is_list for s in steps):
        raise ExprError(key, f"{path!r} walks no list: mark one with [] (or read it as a field)")
    if steps[-1].is_list and steps[-1].filters:
        raise ExprError(key, f"{path!r} ends in a filtered list: name the field to read")
    return steps


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _access(var: str, names: list[str]) -> str:
    return var + "".join("." + _ident(n) for n in names)


def _filter_sql(filters: tuple[tuple[str, bool, tuple[str, ...]], ...]) -> str:
    conds = []
    for name, equal, values in filters:
        x = f"CAST({_access('x', name.split('.'))} AS VARCHAR)"
        listed = ", ".join(lit(v) for v in values)
        conds.append(f"{x} IN ({listed})" if equal else f"coalesce({x} NOT IN ({listed}), TRUE)")
    return " AND ".join(conds)


def shape(tree: dict, steps: list[_Step], key: tuple[str, ...]) -> None:
    """Add what ``steps`` reads to ``tree``, the JSON structure the record is parsed into once
    (``json_transform``): objects are dicts, lists ``[element]``, values ``"VARCHAR"``."""

    def clash(name: str) -> ExprError:
        return ExprError(key, f"{name!r} is read both as a value and as a list or object")

    def child(node: dict, name: str, want: Any) -> Any:
        have = node.setdefault(name, want)
        if type(have) is not type(want) or (isinstance(want, list) and have[0] == "VARCHAR"):
            raise clash(name)
        return have

    node = tree
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        if last and not step.is_list:
            if node.setdefault(step.name, "VARCHAR") != "VARCHAR":
                raise clash(step.name)
        elif last:
            if node.setdefault(step.name, ["VARCHAR"]) != ["VARCHAR"]:
                raise clash(step.name)
        elif step.is_list:
            node = child(node, step.name, [{}])[0]
        else:
            node = child(node, step.name, {})
        if step.is_list and not last:
            for name, _, _ in step.filters:
                *outer, leaf = name.split(".")
                inner = node
                for part in outer:
                    inner = child(inner, part, {})
                if inner.setdefault(leaf, "VARCHAR") != "VARCHAR":
                    raise clash(leaf)


def values_sql(struct: str, steps: list[_Step]) -> str:
    """SQL of the non-empty text values the path reaches in the parsed record ``struct``."""
    cur: str | None = None
    pending: list[str] = []
    last_list = max(i for i, s in enumerate(steps) if s.is_list)
    for step in steps[: last_list + 1]:
        pending.append(step.name)
        if not step.is_list:
            continue
        # A missing or non-list level is NULL; flatten drops NULL inner lists.
        if cur is None:
            cur = _access(struct, pending)
        else:
            cur = f"flatten(list_transform({cur}, lambda x: {_access('x', pending)}))"
        if step.filters:
            cur = f"list_filter({cur}, lambda x: {_filter_sql(step.filters)})"
        pending = []
    leaf = _access("x", [s.name for s in steps[last_list + 1 :]])
    read = f"nullif(trim(CAST({leaf} AS VARCHAR)), '')"
    return (
        f"coalesce(list_filter(list_transform({cur}, lambda x: {read}), "
        "lambda v: v IS NOT NULL), CAST([] AS VARCHAR[]))"
    )


def _timestamp_of(v: str, tz: str) -> str:
    # As the iso8601 format of the timestamp operator: an offset says its instant, none is
    # the source's local time. A trailing Z (every Genesys time) skips the regular expression.
    return (
        f"CASE WHEN right({v}, 1) = 'Z' OR regexp_matches({v}, '{_OFFSET}') "
        f"THEN try_cast({v} AS TIMESTAMPTZ) "
        f"ELSE timezone({lit(tz)}, try_cast({v} AS TIMESTAMP)) END"
    )


def compile_aggregate(op: str, v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    path = v[op]
    steps = parse_path(path, (*key, op))
    base = ""
    json_struct = ctx.json_struct
    if json_struct is None:
        raise ExprError((*key, op), "aggregates over lists need JSON records (format json/jsonl)")
    if len(steps) > 1 and not steps[0].is_list and json_struct(steps[0].name, None) is not None:
        base, steps = steps[0].name, steps[1:]
    tree: dict = {}
    shape(tree, steps, (*key, op))
    try:
        struct = json_struct(base, tree)
    except ExprError as exc:  # the same field read two ways by two aggregates
        raise ExprError((*key, op), str(exc)) from None
    ctx.used_fields.add(path)
    values = values_sql(struct, steps)
    kind_of = v.get("as", "number" if op == "sum" else TEXT)
    if op == "count":
        if "as" in v or "scale" in v:
            raise ExprError(key, "count takes no as or scale: it counts the values found")
        return Compiled(f"CAST(len({values}) AS BIGINT)", INT, (), (path,))
    if kind_of not in (TEXT, TIMESTAMP, "number"):
        raise ExprError((*key, "as"), "as is text, timestamp or number")
    if op == "sum" and kind_of != "number":
        raise ExprError((*key, "as"), "sum adds numbers")
    if "scale" in v and (kind_of != "number" or not isinstance(v["scale"], int | float)):
        raise ExprError((*key, "scale"), "scale is a number, for numeric values")
    if "timezone" in v and kind_of != TIMESTAMP:
        raise ExprError((*key, "timezone"), "timezone is for as = timestamp")
    if kind_of == TEXT:
        parse, kind, what = "", TEXT, ""
    elif kind_of == TIMESTAMP:
        parse = _timestamp_of("v", v.get("timezone", ctx.timezone))
        kind, what = TIMESTAMP, "an ISO 8601 timestamp"
    else:
        parse, kind, what = "try_cast(v AS DOUBLE)", FLOAT, "a number"
    typed = f"list_transform({values}, lambda v: {parse})" if parse else values
    pick = {
        "first": f"({typed})[1]",
        "last": f"({typed})[-1]",
        "min": f"list_min({typed})",
        "max": f"list_max({typed})",
        "sum": f"list_sum({typed})",
    }[op]
    if "scale" in v:
        scale = float(v["scale"])
        # 120500 ms * 0.001 is 120.49999...: divide by a whole inverse to stay exact.
        inverse = 1 / scale if scale else 0
        exact = inverse == round(inverse) and inverse != 0
        pick = f"({pick} / {lit(float(round(inverse)))})" if exact else f"({pick} * {lit(scale)})"
    checks: tuple[Check, ...] = ()
    if parse:
        # The parsed list is the one the value is picked from (one parse per element); a
        # value that did not parse is a NULL in it. Only rejected rows look for which.
        bad = f"list_filter({values}, lambda v: ({parse}) IS NULL)"
        checks = (
            Check(
                f"len(list_filter({typed}, lambda p: p IS NULL)) > 0",
                "bad_type",
                f"{lit(f'{ctx.column_name}: source field {path}=')} || "
                f"{_shown(f'({bad})[1]', ctx)} || ' is not {what}'",
            ),
        )
    return Compiled(pick, kind, checks, (path,))
