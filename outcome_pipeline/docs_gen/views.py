"""The views of the data dictionary: their columns as the engine sees them, meanings by lineage.

A view's columns are read from DuckDB itself (every table created empty in memory, every view
created over them), so the dictionary lists exactly what a reader gets. A column that passes a
table column through (possibly renamed for BI) takes that column's definition; a column a
view computes says how, then the definition of what it is computed from.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from outcome_pipeline.outcomes import LIFETIME_VIEW_SQL, OUTCOME_TABLES, RATES
from outcome_pipeline.serving.views import _RENAMED, bi_view_sql
from outcome_pipeline.warehouse import ALL_TABLES
from outcome_pipeline.warehouse.tables import TableDef, current_state_views
from outcome_pipeline.warehouse.warehouse import sql_type

_SCHEMA = "outcome"
_FROM_BI = {v: k for k, v in _RENAMED.items()}
# DuckDB's type names as the tables' (PostgreSQL) names; a sum of bigint is wider in both.
_TYPES = {
    "VARCHAR": "text",
    "DOUBLE": "double precision",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "HUGEINT": "hugeint (DuckDB), numeric (PostgreSQL)",
}

# customer_lifetime's columns: each customer's latest customer_outcomes row and sums over all.
_LIFETIME = {
    "customer_key": "customer_key",
    "journeys": "Journeys the customer started, over every business day (sum of journeys_started).",
    "resolved_journeys": "Of those, journeys resolved (sum of resolved_journeys).",
    "resolved_share": "resolved_journeys / journeys ended (sum of journeys_ended); NULL "
    "before any journey ended.",
    "last_outcome": "last_outcome",
    "is_churned_within_90d_of_a_journey": "True when the customer churned within 90 days after "
    "any of their journeys (bool_or of is_churned_within_90d).",
    "time_to_value_days": "Longest time_to_value_days over the customer's days.",
}


@dataclass(frozen=True)
class ViewDoc:
    name: str
    where: str
    description: str
    columns: tuple[tuple[str, str, str], ...]  # (name, type, definition)


def _view_columns() -> dict[str, list[tuple[str, str]]]:
    con = duckdb.connect()
    try:
        con.execute(f"CREATE SCHEMA {_SCHEMA}")
        for t in (*ALL_TABLES, *OUTCOME_TABLES.values()):
            cols = ", ".join(f'"{c.name}" {sql_type(c.type, "duckdb")}' for c in t.columns)
            con.execute(f'CREATE TABLE {_SCHEMA}."{t.name}" ({cols})')
        schema = f'"{_SCHEMA}"'
        views = {n: sql.replace("{schema}", schema) for n, sql in current_state_views().items()}
        views["customer_lifetime"] = LIFETIME_VIEW_SQL.replace("{schema}", schema)
        views.update(bi_view_sql(_SCHEMA))
        out = {}
        for name, sql in views.items():
            con.execute(f'CREATE VIEW {_SCHEMA}."{name}" AS {sql}')
            rows = con.execute(f'DESCRIBE {_SCHEMA}."{name}"').fetchall()
            out[name] = [(r[0], _TYPES.get(r[1], r[1].lower())) for r in rows]
        return out
    finally:
        con.close()


# A column a view adds that nothing here describes yet: said plainly rather than left blank.
_UNDESCRIBED = "Computed by the view (see outcome_pipeline/serving/views.py)."


def _comment(table: TableDef, column: str) -> str:
    return next((c.comment for c in table.columns if c.name == column), _UNDESCRIBED)


def _summary_definition(column: str) -> str:
    source = _FROM_BI.get(column, column)
    if source == "partition_date":
        return _comment(OUTCOME_TABLES["daily_outcomes"], source)
    for table in ("daily_outcomes", "daily_outputs"):
        t = OUTCOME_TABLES[table]
        if source in RATES[table]:
            num, den = RATES[table][source]
            return (
                f"Over the day's {table} rows, from the summed {num} and {den} (never a mean "
                f"of rates): {_comment(t, source)}"
            )
        if source in t.column_names and source not in ("is_final", "as_of"):
            how = "Computed from" if source == "nps" else "Sum over"
            return f"{how} the day's {table} rows. {_comment(t, source)}"
    if source == "is_final":
        return "True when every daily_outcomes row of the day is final."
    if source == "as_of":
        return "Latest as_of of the day's daily_outcomes rows."
    return _UNDESCRIBED


def view_docs() -> list[ViewDoc]:
    """Every view the pipeline creates, in the order a reader meets them."""
    columns = _view_columns()
    staging = {t.name: t for t in ALL_TABLES}
    lifetime_src = OUTCOME_TABLES["customer_outcomes"]

    def passthrough(view: str, table: TableDef) -> tuple[tuple[str, str, str], ...]:
        return tuple((c, typ, _comment(table, _FROM_BI.get(c, c))) for c, typ in columns[view])

    docs = []
    for name in sorted(current_state_views()):
        base = staging[name.removesuffix("_current")]
        docs.append(
            ViewDoc(
                name,
                "working warehouse (DuckDB file, PostgreSQL schema)",
                f"The latest delivered version of each id in `{base.name}` (latest "
                "`updated_at`, then the latest delivery).",
                passthrough(name, base),
            )
        )
    docs.append(
        ViewDoc(
            "customer_lifetime",
            "the working warehouse (DuckDB file, PostgreSQL schema); not in the BI file",
            "One row per identified customer: lifetime figures over every day of "
            "`customer_outcomes`.",
            tuple(
                (
                    c,
                    typ,
                    _comment(lifetime_src, _LIFETIME[c])
                    if _LIFETIME.get(c) in lifetime_src.column_names
                    else _LIFETIME.get(c, _UNDESCRIBED),
                )
                for c, typ in columns["customer_lifetime"]
            ),
        )
    )
    bi = "the BI DuckDB file and PostgreSQL (docs/operations.md, *BI: what to connect to*)"
    sql = bi_view_sql(_SCHEMA)
    for name, table in (
        ("bi_daily_outcomes", "daily_outcomes"),
        ("bi_daily_summary", None),
        ("bi_agent_output_vs_outcome", "daily_agent_output_vs_outcome"),
    ):
        grain = sql[name].splitlines()[0].removeprefix("-- ")
        if table is None:
            cols = tuple((c, typ, _summary_definition(c)) for c, typ in columns[name])
        else:
            cols = passthrough(name, OUTCOME_TABLES[table])
        docs.append(ViewDoc(name, bi, grain, cols))
    return docs
