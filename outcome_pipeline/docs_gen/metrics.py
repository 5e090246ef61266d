"""Render ``docs/metrics.md``: every metric of the daily tables with its definition, the SQL
that computes it and the tests that assert it, so one page leads to all three.

Nothing here is written by hand: definitions come from the table definitions (the same text as
the data dictionary), SQL locations from the ``AS <column>`` lines of ``outcomes/sql`` (and,
one step up, the lines that compute the inputs those expressions read; a rate is generated
from its RateColumn, ``ratio(numerator, denominator)``, where its mart selects through the
``<table>_with_rates`` macro), tests from the test
functions that name the column in a string (a column name in a test is how tests assert on
it: ``row["fcr_rate"]``, ``select fcr_journeys …``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from outcome_pipeline.outcomes.columns import RateColumn
from outcome_pipeline.warehouse.tables import ColumnDef, TableDef

PACKAGE = Path(__file__).resolve().parents[1]
SQL_DIR = PACKAGE / "outcomes" / "sql"
TESTS_DIR = PACKAGE.parent / "outcome_pipeline_tests"
# The tables a CX analyst reads metrics from; journeys and customer tables are their inputs.
METRIC_TABLES = ("daily_outcomes", "daily_outputs", "daily_agent_output_vs_outcome")
DIMENSIONS = {"partition_date", "channel", "queue", "team", "agent", "segment", "as_of"}
_QUALIFIED = re.compile(r"\b([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\b")


@dataclass(frozen=True)
class SqlLine:
    file: str  # relative to the repository root
    line: int
    text: str

    def link(self) -> str:
        return f"[`{Path(self.file).name}:{self.line}`](../{self.file}#L{self.line})"


@dataclass(frozen=True)
class Metric:
    table: str
    column: ColumnDef
    computed_at: tuple[SqlLine, ...]
    inputs_at: tuple[SqlLine, ...]
    tests: tuple[str, ...]


@cache
def _sql_lines() -> tuple[SqlLine, ...]:
    root = PACKAGE.parent
    out = []
    for path in sorted(SQL_DIR.glob("*.sql")):
        rel = path.relative_to(root).as_posix()
        for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            out.append(SqlLine(rel, n, text.strip()))
    return tuple(out)


def _defining_lines(column: str, in_file: str | None = None) -> tuple[SqlLine, ...]:
    pattern = re.compile(rf"\bAS\s+{re.escape(column)}\s*,?\s*$", re.IGNORECASE)
    return tuple(
        s
        for s in _sql_lines()
        if pattern.search(s.text) and (in_file is None or Path(s.file).name == in_file)
    )


def _input_lines(expressions: tuple[SqlLine, ...]) -> tuple[SqlLine, ...]:
    """The lines computing the columns an expression reads (``a.fcr`` → ``… AS fcr``): in
    the same file when it computes them (a CTE), else in the intermediate relations."""
    seen: dict[tuple[str, int], SqlLine] = {}
    for expr in expressions:
        body = re.split(r"\bAS\s+[a-z_0-9]+\s*,?\s*$", expr.text, flags=re.IGNORECASE)[0]
        for _, name in _QUALIFIED.findall(body):
            found = [
                s
                for s in _defining_lines(name, Path(expr.file).name)
                if (s.file, s.line) != (expr.file, expr.line)
            ] or [s for s in _defining_lines(name) if not Path(s.file).name.startswith("mart_")]
            for s in found:
                seen[(s.file, s.line)] = s
    return tuple(seen[k] for k in sorted(seen))


def _rate_line(table: str, column: RateColumn) -> tuple[SqlLine, ...]:
    """Where the mart selects through ``<table>_with_rates``, with the expression the macro
    generates for the rate (``steps.rate_macros_sql``)."""
    call = f"{table}_with_rates("
    expression = f"ratio({column.numerator}, {column.denominator}) AS {column.name}"
    return tuple(
        SqlLine(s.file, s.line, expression)
        for s in _sql_lines()
        if Path(s.file).name == f"mart_{table}.sql" and call in s.text
    )[-1:]


@cache
def _test_index() -> dict[str, tuple[str, ...]]:
    """{string constant: test ids whose body contains it}, over every test function."""
    index: dict[str, set[str]] = {}
    root = PACKAGE.parent
    for path in sorted(TESTS_DIR.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                        for word in re.findall(r"[a-z_][a-z0-9_]*", sub.value):
                            index.setdefault(word, set()).add(f"{rel}::{node.name}")
    return {k: tuple(sorted(v)) for k, v in index.items()}


def _tests_naming(column: str) -> tuple[str, ...]:
    return _test_index().get(column, ())


def metrics(tables: dict[str, TableDef] | None = None) -> list[Metric]:
    if tables is None:
        from outcome_pipeline.outcomes import OUTCOME_TABLES

        tables = OUTCOME_TABLES
    out = []
    for name in METRIC_TABLES:
        for column in tables[name].columns:
            if column.name in DIMENSIONS:
                continue
            if isinstance(column, RateColumn):
                computed = _rate_line(name, column)
                inputs = tuple(
                    s
                    for part in (column.numerator, column.denominator)
                    for s in _defining_lines(part, f"mart_{name}.sql")[-1:]
                )
            else:
                # The final SELECT's line: the last one in the table's mart naming the column.
                computed = _defining_lines(column.name, f"mart_{name}.sql")[-1:]
                inputs = _input_lines(computed)
            out.append(
                Metric(
                    table=name,
                    column=column,
                    computed_at=computed,
                    inputs_at=inputs,
                    tests=_tests_naming(column.name),
                )
            )
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _test_link(test_id: str) -> str:
    file, func = test_id.split("::")
    return f"[`{Path(file).name}::{func}`](../{file})"


def render_metrics() -> str:
    all_metrics = metrics()
    by_name = {(m.table, m.column.name): m for m in all_metrics}
    out = [
        "# Metrics",
        "",
        "Every metric of the daily tables: its definition, the SQL line computing it (and the",
        "lines computing what that line reads), and the tests that assert it. Generated from",
        "the table definitions, `outcome_pipeline/outcomes/sql/` and `outcome_pipeline_tests/`",
        "by `outcome-pipeline docs`; do not edit by hand. Rates are listed first, each with its",
        "numerator and denominator; a rate is NULL when its denominator is 0. The full table",
        "and column texts are in the [data dictionary](data_dictionary.md).",
        "",
    ]
    for table in METRIC_TABLES:
        rows = [m for m in all_metrics if m.table == table]
        out += [f"## `{table}`", ""]
        rates = [m for m in rows if isinstance(m.column, RateColumn)]
        others = [m for m in rows if not isinstance(m.column, RateColumn)]
        for m in rates:
            col = m.column
            assert isinstance(col, RateColumn)
            parts = [by_name.get((table, c)) for c in (col.numerator, col.denominator)]
            out += [f"### `{col.name}`", "", _cell(col.comment), ""]
            for label, part in zip(("numerator", "denominator"), parts, strict=True):
                if part is not None:
                    out.append(f"- **{label}** `{part.column.name}`: {_cell(part.column.comment)}")
            out += _where(m)
            for part in parts:
                if part is not None and part.computed_at:
                    out.append(f"- `{part.column.name}` computed in {_lines(part.computed_at)}")
                    out += _reads(part.inputs_at)
            out += _tested(m, parts)
            out.append("")
        out += ["### Counts and other figures", "", "| column | definition | SQL | tests |"]
        out.append("|---|---|---|---|")
        for m in others:
            tests = ", ".join(_test_link(t) for t in m.tests[:3])
            if len(m.tests) > 3:
                tests += f" (+{len(m.tests) - 3})"
            out.append(
                f"| `{m.column.name}` | {_cell(m.column.comment)} | "
                f"{_lines(m.computed_at) or '—'} | {tests or '—'} |"
            )
        out.append("")
    return "\n".join(out)


def _lines(lines: tuple[SqlLine, ...]) -> str:
    return ", ".join(s.link() for s in lines)


def _reads(lines: tuple[SqlLine, ...]) -> list[str]:
    return [f"  - which reads {s.link()}: `{s.text.rstrip(',')}`" for s in lines]


def _where(m: Metric) -> list[str]:
    if not m.computed_at:
        return ["- **computed in**: — (not found in the SQL)"]
    how = " (generated from its RATES declaration)" if isinstance(m.column, RateColumn) else ""
    out = [f"- **computed in** {_lines(m.computed_at)}{how}:"]
    out += [f"  `{s.text.rstrip(',')}`" for s in m.computed_at]
    return out + _reads(m.inputs_at)


def _tested(m: Metric, parts: list[Metric | None]) -> list[str]:
    """Tests naming the rate; when none does, those naming its numerator (what it counts)."""
    tests, via = m.tests, ""
    numerator = parts[0]
    if not tests and numerator is not None:
        tests, via = numerator.tests, f" (through `{numerator.column.name}`)"
    if not tests:
        return ["- **tested by**: — (no test names it)"]
    return [f"- **tested by**{via} " + ", ".join(_test_link(t) for t in tests)]
