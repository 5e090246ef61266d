"""BI views: the outcome tables under names and columns a BI user can read without the code.

The same SQL runs on PostgreSQL (views in the BI schema ``<schema>_bi``, see pg_publish.py)
and DuckDB (views in the published BI copy). Day-level rates are recomputed from summed
numerators and denominators, never averaged: the mean of per-team rates is not the day's rate.
Which columns form a rate comes from ``RATES``, the outcome tables' own definitions, so a view
cannot drift from them.

Text columns are neutralised against spreadsheet formula injection (OWASP "CSV Injection"):
a value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is shown with a
leading single quote, so a BI export opened in Excel or LibreOffice shows the text instead of
running it (an agent id ``=HYPERLINK(...)``). Why in the views and not as a validation rule:
these are identifiers from the source systems, and a legitimate one may start with ``-`` or
``+`` (a team "-Support", a queue "+44 sales"); quarantining their contacts would drop real
journeys from every rate, while the danger exists only where the text leaves for a
spreadsheet. The tables keep the source's values, so joins back to the source systems work;
numbers are never touched (they are typed, a negative amount is no text). Exports of the
tables themselves, rather than the views, are not neutralised: BI reads the views.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa
from sqlalchemy.engine import Connection

from outcome_pipeline.outcomes import OUTCOME_TABLES, RATES
from outcome_pipeline.warehouse.tables import check_identifier

# Friendlier names for BI (left: warehouse column, right: view column).
_RENAMED = {
    "partition_date": "business_day",
    "is_final": "is_outcome_final",
    "as_of": "computed_as_of",
}

_DAILY_OUTCOME_COLUMNS = (
    "partition_date",
    "channel",
    "queue",
    "team",
    "segment",
    "journeys_started",
    "journeys_ended",
    "resolved_journeys",
    "resolution_rate",
    "fcr_journeys",
    "fcr_rate",
    "contacts",
    "repeat_contacts",
    "repeat_contact_rate",
    "contacts_per_resolution",
    "customer_success_ratio",
    "effortless_resolution_rate",
    "csat_responses",
    "csat_rate",
    "csat_mean",
    "nps_responses",
    "nps",
    "ces_responses",
    "ces_easy_rate",
    "ces_mean",
    "churn_30d_rate",
    "churn_90d_rate",
    "revenue_at_risk",
    "revenue_kept",
    "is_final",
    "as_of",
)

_AGENT_OUTPUT_VS_OUTCOME_COLUMNS = (
    "partition_date",
    "team",
    "agent_id",
    "legs_handled",
    "aht_seconds",
    "claimed_resolution_rate",
    "real_resolution_rate",
    "resolution_gap",
    "false_resolution_rate",
    "aht_rank",
    "real_resolution_rank",
    "is_final",
    "as_of",
)


# OWASP's list of the first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(column: str) -> str:
    """``column`` with a single quote before a value a spreadsheet would run as a formula
    (same SQL in DuckDB and PostgreSQL; NULL stays NULL)."""
    starts = ", ".join(f"'{c}'" if c.isprintable() else f"chr({ord(c)})" for c in FORMULA_STARTS)
    return f"CASE WHEN left({column}, 1) IN ({starts}) THEN '''' || {column} ELSE {column} END"


def _select(table: str, columns: tuple[str, ...]) -> str:
    schema = OUTCOME_TABLES[table].arrow_schema

    def one(c: str) -> str:
        value = neutralised(c) if pa.types.is_string(schema.field(c).type) else c
        return f"{value} AS {_RENAMED.get(c, c)}" if value != c or c in _RENAMED else c

    return ",\n    ".join(one(c) for c in map(check_identifier, columns))


def _ratio(num: str, den: str) -> str:
    # FLOAT8 is DOUBLE in both dialects; NULLIF keeps a day without a denominator NULL.
    return f"CAST(sum({num}) AS FLOAT8) / NULLIF(sum({den}), 0)"


def _day_rates(table: str) -> str:
    return ",\n    ".join(
        f"{_ratio(num, den)} AS {_RENAMED.get(rate, rate)}"
        for rate, (num, den) in sorted(RATES[table].items())
    )


def _summary_columns() -> str:
    outcome_rates = [_RENAMED.get(r, r) for r in sorted(RATES["daily_outcomes"])]
    output_rates = [_RENAMED.get(r, r) for r in sorted(RATES["daily_outputs"])]
    cols = [f"outcomes.{c}" for c in ("journeys_started", "journeys_ended", "contacts", "nps")]
    cols += [f"outcomes.{c}" for c in outcome_rates]
    cols += [
        "outputs.legs_offered",
        "outputs.legs_handled",
        *(f"outputs.{c}" for c in output_rates),
    ]
    cols += ["outcomes.is_outcome_final", "outcomes.computed_as_of"]
    return ", ".join(cols)


def bi_view_sql(schema: str) -> dict[str, str]:
    """{view name: SELECT} for the warehouse ``schema`` (validated identifier)."""
    s = f'"{check_identifier(schema)}"'
    return {
        "bi_daily_outcomes": (
            "-- One row per business day x channel x queue x team x segment.\n"
            f"SELECT\n    {_select('daily_outcomes', _DAILY_OUTCOME_COLUMNS)}\n"
            f"FROM {s}.daily_outcomes"
        ),
        "bi_daily_summary": (
            "-- One row per business day: every rate from summed numerators/denominators.\n"
            "WITH outcomes AS (\n"
            "  SELECT partition_date,\n"
            "    CAST(sum(journeys_started) AS BIGINT) AS journeys_started,\n"
            "    CAST(sum(journeys_ended) AS BIGINT) AS journeys_ended,\n"
            "    CAST(sum(contacts) AS BIGINT) AS contacts,\n"
            "    100 * (CAST(sum(nps_promoters) AS FLOAT8) - sum(nps_detractors))"
            " / NULLIF(sum(nps_responses), 0) AS nps,\n"
            f"    {_day_rates('daily_outcomes')},\n"
            "    bool_and(is_final) AS is_outcome_final,\n"
            "    max(as_of) AS computed_as_of\n"
            f"  FROM {s}.daily_outcomes GROUP BY partition_date\n"
            "), outputs AS (\n"
            "  SELECT partition_date,\n"
            "    CAST(sum(legs_offered) AS BIGINT) AS legs_offered,\n"
            "    CAST(sum(legs_handled) AS BIGINT) AS legs_handled,\n"
            f"    {_day_rates('daily_outputs')}\n"
            f"  FROM {s}.daily_outputs GROUP BY partition_date\n"
            ")\n"
            f"SELECT outcomes.partition_date AS business_day, {_summary_columns()}\n"
            "FROM outcomes LEFT JOIN outputs ON outputs.partition_date = outcomes.partition_date"
        ),
        "bi_agent_output_vs_outcome": (
            "-- One row per business day x team x agent: handle time beside real resolution.\n"
            "SELECT\n    "
            f"{_select('daily_agent_output_vs_outcome', _AGENT_OUTPUT_VS_OUTCOME_COLUMNS)}\n"
            f"FROM {s}.daily_agent_output_vs_outcome"
        ),
    }


def view_statements(schema: str, dialect: str) -> dict[str, str]:
    """{view name: SELECT} for ``dialect`` ('duckdb' or 'postgresql'): the same SQL for both."""
    if dialect not in ("duckdb", "postgresql"):
        raise ValueError(f"unsupported dialect {dialect!r}")
    return bi_view_sql(schema)


def views_version(schema: str, dialect: str) -> str:
    """A short hash of the view SQL: stored in each view's comment to skip unchanged views."""
    text = "\n".join(f"{k}\n{v}" for k, v in sorted(view_statements(schema, dialect).items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _marker(version: str) -> str:
    # Read by people too (a BI tool shows the comment): a plain phrase, not a code tag.
    return f"(definition {version})"


def create_bi_views(conn: Connection, schema: str, dialect: str) -> list[str]:
    """Create or update the BI views; return the names of those (re)created.

    On PostgreSQL ``CREATE OR REPLACE VIEW`` takes an exclusive lock on the view, which waits
    for running BI queries and blocks new ones, so a view is replaced only when its SQL changed
    (the version marker in its comment differs). A view of a table holds no data: readers see
    exactly the committed rows of the tables, old or new partitions, never a mix.
    """
    version = views_version(schema, dialect)
    changed = []
    s = f'"{check_identifier(schema)}"'
    for name, select in view_statements(schema, dialect).items():
        qualified = f"{s}.{check_identifier(name)}"
        if dialect == "postgresql":
            current = conn.exec_driver_sql(
                "SELECT obj_description(to_regclass(%(n)s), 'pg_class')", {"n": qualified}
            ).scalar()
            if current and _marker(version) in current:
                continue
        conn.exec_driver_sql(f"CREATE OR REPLACE VIEW {qualified} AS\n{select}")
        grain = select.splitlines()[0].removeprefix("-- ")
        comment = (
            f"{grain} Read-only; columns in docs/data_dictionary.md {_marker(version)}."
        ).replace("'", "''")
        conn.exec_driver_sql(f"COMMENT ON VIEW {qualified} IS '{comment}'")
        changed.append(name)
    return changed
