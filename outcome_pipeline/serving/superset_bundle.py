"""The Apache Superset starter dashboard, as an import bundle generated from the table definitions.

Superset imports a folder of YAML files (databases, datasets, charts, dashboards). Written by
hand, a dataset's columns drift from the tables the day a column is added; here every dataset
column (name, type, definition) is read from the tables and BI views this code creates, and
every rate is a dataset metric ``sum(numerator) / sum(denominator)`` taken from ``RATES`` (the
tables' own definitions): a chart grouped by team or week shows the team's or week's rate,
never an average of daily rates. ``outcome-pipeline``'s test keeps the committed bundle
(``bi/superset/bundles/``) equal to :func:`render_bundle`.

Two bundles, one per place BI reads (docs/operations.md): the PostgreSQL BI schema
``<schema>_bi`` and the DuckDB BI file. Same datasets, charts and dashboard; their UUIDs
differ so both can live in one Superset. Each chart also carries its data query (Superset's
``query_context``), which the REST API runs (``GET /api/v1/chart/<id>/data/``): the test runs
them in a real Superset and compares every figure with SQL over the tables.

Superset runs in its own virtual environment (bi/superset/setup.sh); this module only writes
text and needs neither Superset nor a database server.
"""

from __future__ import annotations

import argparse
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from outcome_pipeline.outcomes import OUTCOME_TABLES, RATES
from outcome_pipeline.serving.publish import BI_TABLES
from outcome_pipeline.serving.views import _RENAMED, bi_view_sql
from outcome_pipeline.warehouse import DEFAULT_SCHEMA
from outcome_pipeline.warehouse.tables import check_identifier

# Stable UUIDs: a re-import updates the same objects instead of adding copies.
_NAMESPACE = uuid.UUID("6c1f1a52-7d0e-4f39-9d2b-0b5e3c0a2f22")
VERSION = "1.0.0"
DICTIONARY = "docs/data_dictionary.md"


@dataclass(frozen=True)
class Backend:
    key: str
    database_name: str
    # A placeholder: bi/superset/import_bundle.py replaces it with the real address.
    sqlalchemy_uri: str
    title: str

    def schema(self, warehouse_schema: str) -> str:
        s = check_identifier(warehouse_schema)
        return f"{s}_bi" if self.key == "postgresql" else s


BACKENDS = {
    "postgresql": Backend(
        "postgresql",
        "Outcome BI schema (PostgreSQL)",
        "postgresql+psycopg2://bi_reader@localhost:5432/warehouse",
        "Customer outcomes (PostgreSQL)",
    ),
    "duckdb": Backend(
        "duckdb",
        "Outcome BI file (DuckDB)",
        "duckdb:////path/to/data/warehouse_bi.duckdb?access_mode=read_only",
        "Customer outcomes (DuckDB BI file)",
    ),
}


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


# -- columns: read from the tables and views this code creates ------------------------------


def _generic_type(duckdb_type: str, dialect: str) -> str:
    """A column type as Superset shows it (only its family matters to Superset)."""
    pg = {
        "VARCHAR": "TEXT",
        "DOUBLE": "DOUBLE PRECISION",
        "BIGINT": "BIGINT",
        "INTEGER": "INTEGER",
        "BOOLEAN": "BOOLEAN",
        "DATE": "DATE",
        "TIMESTAMP WITH TIME ZONE": "TIMESTAMP WITH TIME ZONE",
    }
    return pg.get(duckdb_type, duckdb_type) if dialect == "postgresql" else duckdb_type


def relation_columns(schema: str = DEFAULT_SCHEMA) -> dict[str, list[tuple[str, str]]]:
    """{table or BI view: [(column, DuckDB type)]}, from an empty in-memory warehouse built by
    the same DDL and view SQL as the real one."""
    from outcome_pipeline.warehouse import Warehouse

    con = duckdb.connect()
    try:
        for sql in Warehouse("duckdb:///:memory:", schema).ddl(BI_TABLES):
            con.execute(sql)
        for name, select in bi_view_sql(schema).items():
            con.execute(f'CREATE VIEW "{schema}"."{name}" AS {select}')
        for ds in DATASETS:
            if ds.sql:
                con.execute(f'CREATE VIEW "{schema}"."{ds.key}" AS {ds.sql(schema)}')
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? ORDER BY table_name, ordinal_position",
            [schema],
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out


def _column_definitions(relation: str) -> dict[str, str]:
    """Column name -> its definition: a table's own comments; for a BI view, those of the
    columns it shows (under their BI names, ``views._RENAMED``)."""
    tables = {t.name: t for t in BI_TABLES}
    if relation in tables:
        return {c.name: c.comment for c in tables[relation].columns}
    bi_names = {warehouse: bi for warehouse, bi in _RENAMED.items()}
    out: dict[str, str] = {}
    for source in ("daily_outcomes", "daily_outputs", "daily_output_vs_outcome"):
        for c in tables[source].columns:
            out.setdefault(bi_names.get(c.name, c.name), c.comment)
    return out


# -- datasets ------------------------------------------------------------------------------


def _ratio(num: str, den: str) -> str:
    # FLOAT8 is DOUBLE in both dialects; NULLIF keeps a rate without denominator NULL (0/0).
    return f"CAST(SUM({num}) AS FLOAT8) / NULLIF(SUM({den}), 0)"


@dataclass(frozen=True)
class Metric:
    name: str
    expression: str
    label: str
    d3format: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Dataset:
    key: str  # table or view name
    description: str
    main_dttm_col: str | None
    metrics: tuple[Metric, ...] = ()
    # Calculated columns: (name, SQL expression valid in both dialects, description).
    calculated: tuple[tuple[str, str, str], ...] = ()
    # A virtual dataset: its SELECT for a schema (else the table or view named ``key``).
    sql: Callable[[str], str] | None = None


_PERCENT = ".1%"


# Column headers and legends: the metric's name in words, a few as CX people say them.
_LABELS = {
    "fcr_rate": "First-contact resolution",
    "aht_seconds": "AHT (seconds)",
    "asa_seconds": "ASA (seconds)",
    "csat_rate": "CSAT (share satisfied)",
    "csat_mean": "CSAT (mean score)",
    "ces_easy_rate": "CES (share easy)",
    "ces_mean": "CES (mean score)",
    "churn_30d_rate": "Churn within 30 days",
    "churn_90d_rate": "Churn within 90 days",
    "mrr_at_stake": "MRR at stake",
}


def label(name: str) -> str:
    return _LABELS.get(name) or name.replace("_", " ").capitalize()


def _rate_metrics(table: str) -> tuple[Metric, ...]:
    """One metric per rate of ``table`` (``RATES``): sum(numerator) / sum(denominator)."""
    defs = {c.name: c.comment for c in OUTCOME_TABLES[table].columns}
    out = []
    for rate, (num, den) in sorted(RATES[table].items()):
        fmt = _PERCENT if rate.endswith(("_rate", "_share")) else ",.2f"
        out.append(Metric(rate, _ratio(num, den), label(rate), fmt, defs.get(rate)))
    return tuple(out)


def _sums(table_columns: Iterable[str], fmt: str = ",d") -> tuple[Metric, ...]:
    return tuple(Metric(c, f"SUM({c})", label(c), fmt) for c in table_columns)


_NPS = Metric(
    "nps",
    "100 * (CAST(SUM(nps_promoters) AS FLOAT8) - SUM(nps_detractors)) "
    "/ NULLIF(SUM(nps_responses), 0)",
    "NPS",
    ",.1f",
    "Net Promoter Score: % promoters - % detractors of the responses.",
)

_TTR_BUCKET = (
    "CASE WHEN NOT resolved THEN 'not resolved' "
    "WHEN time_to_resolution_hours < 1 THEN '1: < 1 h' "
    "WHEN time_to_resolution_hours < 4 THEN '2: 1-4 h' "
    "WHEN time_to_resolution_hours < 24 THEN '3: 4-24 h' "
    "WHEN time_to_resolution_hours < 72 THEN '4: 1-3 days' "
    "ELSE '5: > 3 days' END"
)


def _share(condition: str) -> str:
    return f"CAST(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS FLOAT8) / NULLIF(COUNT(*), 0)"


def channel_switches_sql(schema: str) -> str:
    """One row per channel switch inside a journey: a contact whose channel differs from the
    journey's previous contact's (same SQL in PostgreSQL and DuckDB)."""
    s = f'"{check_identifier(schema)}"'
    return (
        "SELECT partition_date, previous_channel, channel,\n"
        "  previous_channel || ' -> ' || channel AS channel_switch\n"
        "FROM (\n"
        "  SELECT partition_date, channel,\n"
        "    lag(channel) OVER (PARTITION BY journey_id ORDER BY contact_seq) AS previous_channel\n"
        f"  FROM {s}.journey_contacts\n"
        ") AS contacts_in_order\n"
        "WHERE previous_channel <> channel"
    )


DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "daily_outcomes",
        OUTCOME_TABLES["daily_outcomes"].comment,
        "partition_date",
        (
            *_rate_metrics("daily_outcomes"),
            _NPS,
            *_sums(("journeys_ended", "resolved_journeys", "contacts", "repeat_contacts")),
            *_sums(("revenue_at_risk", "revenue_kept", "mrr_at_stake"), ",.0f"),
        ),
    ),
    Dataset(
        "daily_output_vs_outcome",
        OUTCOME_TABLES["daily_output_vs_outcome"].comment,
        "partition_date",
        (
            *_rate_metrics("daily_output_vs_outcome"),
            *_sums(("contacts_handled",)),
        ),
    ),
    Dataset(
        "journeys",
        OUTCOME_TABLES["journeys"].comment,
        "partition_date",
        (
            Metric("journeys", "COUNT(*)", label("journeys"), ",d"),
            Metric(
                "churn_30d_rate",
                _share("churned_within_30d"),
                "Churn within 30 days",
                _PERCENT,
                "Share of the journeys whose customer churned within 30 days after it ended.",
            ),
            Metric(
                "churn_90d_rate",
                _share("churned_within_90d"),
                "Churn within 90 days",
                _PERCENT,
                "Share of the journeys whose customer churned within 90 days after it ended.",
            ),
            Metric("mrr_at_stake", "SUM(mrr_at_stake)", label("mrr_at_stake"), ",.0f"),
        ),
        (
            (
                "resolution_status",
                "CASE WHEN resolved THEN 'resolved' ELSE 'unresolved' END",
                "Whether the journey ended resolved (see journeys.resolved).",
            ),
            (
                "time_to_resolution_bucket",
                _TTR_BUCKET,
                "Time from the first contact to the resolution, in buckets.",
            ),
        ),
    ),
    Dataset(
        "journey_channel_switches",
        "One row per channel switch inside a journey (from the journey's previous contact's "
        "channel to this contact's), from journey_contacts.",
        "partition_date",
        (Metric("switches", "COUNT(*)", label("switches"), ",d"),),
        sql=channel_switches_sql,
    ),
    Dataset(
        "load_audit",
        next(t for t in BI_TABLES if t.name == "load_audit").comment,
        "partition_date",
        _sums(
            (
                "files",
                "files_quarantined",
                "rows_read",
                "rows_duplicate",
                "rows_staged",
                "rows_quarantined",
                "rows_late",
            )
        ),
    ),
    Dataset(
        "bi_daily_summary",
        "One row per business day: every rate from summed numerators and denominators.",
        "business_day",
        (),
        (
            (
                "day_status",
                "CASE WHEN outcome_is_final THEN 'final' ELSE 'provisional' END",
                "provisional: the day's journeys may still change (outcome_is_final false).",
            ),
        ),
    ),
)


def _dataset_yaml(
    ds: Dataset, backend: Backend, schema: str, columns: list[tuple[str, str]], defs: dict
) -> dict:
    dialect = backend.key
    cols = [
        {
            "column_name": name,
            "verbose_name": None,
            "is_dttm": dtype in ("DATE", "TIMESTAMP WITH TIME ZONE"),
            "is_active": True,
            "type": _generic_type(dtype, dialect),
            "groupby": True,
            "filterable": True,
            "expression": None,
            "description": defs.get(name),
            "python_date_format": None,
        }
        for name, dtype in columns
    ]
    cols += [
        {
            "column_name": name,
            "verbose_name": None,
            "is_dttm": False,
            "is_active": True,
            "type": "TEXT" if dialect == "postgresql" else "VARCHAR",
            "groupby": True,
            "filterable": True,
            "expression": expression,
            "description": description,
            "python_date_format": None,
        }
        for name, expression, description in ds.calculated
    ]
    return {
        "table_name": ds.key,
        "main_dttm_col": ds.main_dttm_col,
        "description": ds.description,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "schema": schema,
        "sql": ds.sql(schema) if ds.sql else None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "uuid": _uuid(backend.key, "dataset", ds.key),
        "metrics": [
            {
                "metric_name": m.name,
                "verbose_name": m.label,
                "metric_type": None,
                "expression": m.expression,
                "description": m.description,
                "d3format": m.d3format,
                "extra": None,
                "warning_text": None,
            }
            for m in ds.metrics
        ],
        "columns": cols,
        "version": VERSION,
        "database_uuid": _uuid(backend.key, "database"),
    }


# -- charts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    viz_type: str
    dataset: str
    how_to_read: str
    # The definition's section in the data dictionary.
    definition: str
    metrics: tuple[str, ...]
    # Group-by columns; for timeseries the first is the x axis (a day, grain P1D).
    columns: tuple[str, ...] = ()
    filters: tuple[dict, ...] = ()
    order_by: str | None = None
    row_limit: int = 10000
    width: int = 6
    extra_params: dict = field(default_factory=dict)

    @property
    def description(self) -> str:
        return f"{self.how_to_read} Definitions: {DICTIONARY}#{self.definition}."


_TIMESERIES = ("echarts_timeseries_line", "echarts_timeseries_bar")
# The journeys the daily tables count: ended (outcome known) and identified (an anonymous
# one-contact journey has no resolution, resolved is NULL).
_IDENTIFIED_ENDED = (
    {"col": "is_ended", "op": "IS TRUE"},
    {"col": "is_anonymous", "op": "IS FALSE"},
)

CHARTS: tuple[Chart, ...] = (
    Chart(
        "fcr_headline",
        "First-contact resolution",
        "big_number_total",
        "daily_outcomes",
        "Share of ended journeys resolved by their first contact, over the dashboard's days.",
        "daily_outcomes",
        ("fcr_rate",),
        width=3,
    ),
    Chart(
        "false_resolution_headline",
        "False-resolution rate",
        "big_number_total",
        "daily_output_vs_outcome",
        "Share of the contacts an agent marked resolved that were not (the customer came "
        "back or the case stayed open).",
        "daily_output_vs_outcome",
        ("false_resolution_rate",),
        width=3,
    ),
    Chart(
        "team_bubble",
        "Outputs vs outcomes by team",
        "bubble_v2",
        "daily_output_vs_outcome",
        "Each bubble is a team: right = slower (AHT), up = more contacts really resolved, "
        "size = contacts handled. A team far right-up is slow but effective; far left-down is "
        "fast and failing customers.",
        "daily_output_vs_outcome",
        ("aht_seconds", "real_resolution_rate", "contacts_handled"),
        ("team",),
        width=6,
    ),
    Chart(
        "agent_bubble",
        "Outputs vs outcomes by agent (100 busiest)",
        "bubble_v2",
        "daily_output_vs_outcome",
        "Each bubble is an agent, coloured by team: right = slower (AHT), up = more contacts "
        "really resolved, size = contacts handled. Fast agents low on the chart close contacts "
        "that come back.",
        "daily_output_vs_outcome",
        ("aht_seconds", "real_resolution_rate", "contacts_handled"),
        ("agent_id", "team"),
        order_by="contacts_handled",
        row_limit=100,
        width=6,
    ),
    Chart(
        "team_table",
        "Outputs vs outcomes by team: claimed vs real resolution",
        "table",
        "daily_output_vs_outcome",
        "Per team: handle time beside the resolution agents claimed, the resolution that held, "
        "and the share of claims that were false.",
        "daily_output_vs_outcome",
        (
            "contacts_handled",
            "aht_seconds",
            "claimed_resolution_rate",
            "real_resolution_rate",
            "false_resolution_rate",
        ),
        ("team",),
        order_by="contacts_handled",
        width=6,
    ),
    Chart(
        "agent_table",
        "Outputs vs outcomes by agent: claimed vs real resolution (100 busiest)",
        "table",
        "daily_output_vs_outcome",
        "Per agent, busiest first: a short AHT with a low real-resolution rate and a high "
        "false-resolution rate is the pattern to coach.",
        "daily_output_vs_outcome",
        (
            "contacts_handled",
            "aht_seconds",
            "claimed_resolution_rate",
            "real_resolution_rate",
            "false_resolution_rate",
        ),
        ("team", "agent_id"),
        order_by="contacts_handled",
        row_limit=100,
        width=6,
    ),
    Chart(
        "trend_fcr_repeat",
        "Daily first-contact resolution and repeat contacts",
        "echarts_timeseries_line",
        "bi_daily_summary",
        "One point per business day; series marked 'provisional' are days whose journeys can "
        "still change (not final yet).",
        "bi_daily_summary",
        ("MAX(first_contact_resolution_rate)", "MAX(repeat_contact_rate)"),
        ("business_day", "day_status"),
        width=6,
    ),
    Chart(
        "trend_surveys",
        "Daily CSAT and CES (share satisfied / easy)",
        "echarts_timeseries_line",
        "bi_daily_summary",
        "Share of survey answers that were satisfied (CSAT) or easy (CES) per business day; "
        "'provisional' days can still change.",
        "bi_daily_summary",
        ("MAX(csat_satisfied_rate)", "MAX(ces_easy_rate)"),
        ("business_day", "day_status"),
        width=6,
    ),
    Chart(
        "trend_nps",
        "Daily NPS",
        "echarts_timeseries_line",
        "bi_daily_summary",
        "Net Promoter Score of the day's survey answers (-100..100); 'provisional' days can "
        "still change.",
        "bi_daily_summary",
        ("MAX(nps)",),
        ("business_day", "day_status"),
        width=6,
    ),
    Chart(
        "trend_churn",
        "Daily churn after contact (30 and 90 days)",
        "echarts_timeseries_line",
        "bi_daily_summary",
        "Share of the day's ended journeys whose customer churned within 30 / 90 days; recent "
        "days are 'provisional' until the window has passed.",
        "bi_daily_summary",
        ("MAX(churn_30d_rate)", "MAX(churn_90d_rate)"),
        ("business_day", "day_status"),
        width=6,
    ),
    Chart(
        "journeys_by_channel",
        "Journeys by first channel: resolution, FCR, channel switches",
        "echarts_timeseries_bar",
        "daily_outcomes",
        "Per channel the journey started in: share resolved, resolved at first contact, and "
        "share that switched channel.",
        "daily_outcomes",
        ("resolution_rate", "fcr_rate", "channel_switch_rate"),
        ("channel",),
        width=6,
    ),
    Chart(
        "contacts_per_resolution_by_channel",
        "Contacts per resolution by first channel",
        "echarts_timeseries_bar",
        "daily_outcomes",
        "Contacts a customer needed per resolved journey (1.0 = every resolution took one "
        "contact).",
        "daily_outcomes",
        ("contacts_per_resolution",),
        ("channel",),
        width=6,
    ),
    Chart(
        "channel_switch_pairs",
        "Channel switches: from which channel to which",
        "echarts_timeseries_bar",
        "journey_channel_switches",
        "How often customers moved from one channel to another inside a journey (phone -> "
        "email: the phone call did not settle it). The most frequent pairs first.",
        "journey_contacts",
        ("switches",),
        ("channel_switch",),
        order_by="switches",
        row_limit=15,
        width=6,
    ),
    Chart(
        "time_to_resolution",
        "Time to resolution (ended, identified journeys)",
        "echarts_timeseries_bar",
        "journeys",
        "How long ended journeys took from first contact to resolution, and how many never "
        "resolved.",
        "journeys",
        ("journeys",),
        ("time_to_resolution_bucket",),
        _IDENTIFIED_ENDED,
        width=6,
    ),
    Chart(
        "contacts_per_journey",
        "Contacts per journey (ended, identified journeys)",
        "echarts_timeseries_bar",
        "journeys",
        "How many contacts ended journeys took: the long tail is customers chasing an answer.",
        "journeys",
        ("journeys",),
        ("contacts",),
        _IDENTIFIED_ENDED,
        width=6,
    ),
    Chart(
        "churn_by_resolution",
        "Churn after resolved vs unresolved journeys",
        "echarts_timeseries_bar",
        "journeys",
        "Share of customers who churned within 30 / 90 days after an ended journey, resolved "
        "or not: the gap is what unresolved contacts cost.",
        "journeys",
        ("churn_30d_rate", "churn_90d_rate"),
        ("resolution_status",),
        _IDENTIFIED_ENDED,
        width=6,
    ),
    Chart(
        "revenue_at_risk",
        "Revenue at risk and kept, per day",
        "echarts_timeseries_bar",
        "daily_outcomes",
        "Monthly recurring revenue of customers whose journey ended unresolved (at risk) or "
        "resolved (kept), per business day.",
        "daily_outcomes",
        ("revenue_at_risk", "revenue_kept"),
        ("partition_date",),
        width=12,
    ),
    Chart(
        "quality_by_day",
        "Data quality: rows quarantined and late per day",
        "echarts_timeseries_bar",
        "load_audit",
        "Rows set aside by validation (quarantined) and rows delivered on another day than "
        "their event (late), per business day, all feeds.",
        "load_audit",
        ("rows_quarantined", "rows_late", "rows_duplicate"),
        ("partition_date",),
        width=6,
    ),
    Chart(
        "quality_table",
        "Data quality per feed and day",
        "table",
        "load_audit",
        "Row accounting per feed and day: rows_read = rows_staged + rows_quarantined + "
        "rows_duplicate. Quarantine reasons are in the working warehouse (not in BI: raw PII).",
        "load_audit",
        (
            "files",
            "rows_read",
            "rows_staged",
            "rows_quarantined",
            "rows_duplicate",
            "rows_late",
        ),
        ("partition_date", "feed"),
        width=12,
    ),
)


def _adhoc_max(expression: str) -> dict:
    """``MAX(column)`` as an ad-hoc metric (a view row is already one day's value)."""
    column = expression.removeprefix("MAX(").removesuffix(")")
    return {
        "expressionType": "SQL",
        "sqlExpression": f"MAX({column})",
        "label": column,
        "hasCustomLabel": True,
    }


def _metric(m: str) -> str | dict:
    return _adhoc_max(m) if m.startswith("MAX(") else m


def metric_label(m: str) -> str:
    """The name a metric's values carry in Superset's data response."""
    return m.removeprefix("MAX(").removesuffix(")")


def _query(chart: Chart) -> dict:
    """The query object Superset runs for ``chart`` (what its data API returns)."""
    metrics = [_metric(m) for m in chart.metrics]
    columns: list = list(chart.columns)
    if chart.viz_type in _TIMESERIES and chart.columns:
        first = chart.columns[0]
        temporal = first in ("business_day", "partition_date")
        if temporal:
            columns[0] = {
                "timeGrain": "P1D",
                "columnType": "BASE_AXIS",
                "sqlExpression": first,
                "label": first,
                "expressionType": "SQL",
            }
    order = chart.order_by or (chart.metrics[0] if chart.viz_type == "bubble_v2" else None)
    orderby = [[_metric(order), False]] if order else []
    return {
        "filters": [dict(f) for f in chart.filters],
        "extras": {"having": "", "where": ""},
        "applied_time_extras": {},
        "columns": columns,
        "metrics": metrics,
        "orderby": orderby,
        "annotation_layers": [],
        "row_limit": chart.row_limit,
        "series_limit": 0,
        "order_desc": True,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
        "time_range": "No filter",
    }


def _params(chart: Chart) -> dict:
    """The chart's form data as Superset's explore view keeps it."""
    adhoc = [
        {
            "expressionType": "SIMPLE",
            "clause": "WHERE",
            "subject": f["col"],
            "operator": f["op"],
            "comparator": None,
        }
        for f in chart.filters
    ]
    metrics = [_metric(m) for m in chart.metrics]
    p: dict = {
        "viz_type": chart.viz_type,
        "adhoc_filters": adhoc,
        "row_limit": chart.row_limit,
        "color_scheme": "supersetColors",
        "extra_form_data": {},
    }
    if chart.viz_type == "big_number_total":
        p.update(
            metric=metrics[0], y_axis_format=_format_of(chart.metrics[0]), header_font_size=0.4
        )
    elif chart.viz_type == "bubble_v2":
        x, y, size = metrics
        p.update(
            entity=chart.columns[0],
            x=x,
            y=y,
            size=size,
            max_bubble_size="50",
            show_legend=True,
            x_axis_label="AHT (seconds)",
            y_axis_label="Real resolution rate",
            xAxisFormat=",.0f",
            y_axis_format=".0%",
            order_desc=True,
        )
        if len(chart.columns) > 1:
            p["series"] = chart.columns[1]  # the bubbles' colour
    elif chart.viz_type == "table":
        p.update(
            query_mode="aggregate",
            groupby=list(chart.columns),
            metrics=metrics,
            timeseries_limit_metric=_metric(chart.order_by) if chart.order_by else None,
            order_desc=True,
            table_timestamp_format="%Y-%m-%d",
            show_cell_bars=True,
        )
    else:
        temporal = chart.columns[0] in ("business_day", "partition_date")
        p.update(
            x_axis=chart.columns[0],
            time_grain_sqla="P1D" if temporal else None,
            metrics=metrics,
            groupby=list(chart.columns[1:]),
            x_axis_sort_asc=True,
            show_legend=True,
            rich_tooltip=True,
            y_axis_format=_format_of(chart.metrics[0]),
            markerEnabled=True,
        )
    p.update(chart.extra_params)
    return p


def _format_of(metric: str) -> str:
    name = metric_label(metric)
    if name.endswith(("_rate", "_share")):
        return ".1%"
    return ",.1f" if name in ("nps", "contacts_per_resolution") else "SMART_NUMBER"


def _chart_yaml(chart: Chart, backend: Backend) -> dict:
    dataset_uuid = _uuid(backend.key, "dataset", chart.dataset)
    query_context = {
        "datasource": {"id": 0, "type": "table"},
        "force": False,
        "queries": [_query(chart)],
        "form_data": {**_params(chart), "datasource": "0__table"},
        "result_format": "json",
        "result_type": "full",
    }
    return {
        "slice_name": chart.title,
        "description": chart.description,
        "certified_by": None,
        "certification_details": None,
        "viz_type": chart.viz_type,
        "params": _params(chart),
        "query_context": json.dumps(query_context, sort_keys=True),
        "cache_timeout": None,
        "uuid": _uuid(backend.key, "chart", chart.key),
        "version": VERSION,
        "dataset_uuid": dataset_uuid,
    }


# -- dashboard ------------------------------------------------------------------------------

_INTRO = """\
### Outputs vs outcomes

A team with a great handle time and a poor resolution rate is visible here at a glance.
Rates are recomputed from summed numerators and denominators for whatever you filter
(team, days), never averaged. *Provisional* days can still change (journeys still open,
churn windows not yet passed). Every chart's description says how to read it; column
definitions: `docs/data_dictionary.md`.
"""

# Rows of the dashboard: chart keys, each row's widths adding up to 12.
_ROWS: tuple[tuple[str, ...], ...] = (
    ("fcr_headline", "false_resolution_headline"),
    ("team_bubble", "team_table"),
    ("agent_bubble", "agent_table"),
    ("trend_fcr_repeat", "trend_surveys"),
    ("trend_nps", "trend_churn"),
    ("journeys_by_channel", "contacts_per_resolution_by_channel"),
    ("channel_switch_pairs", "time_to_resolution"),
    ("contacts_per_journey", "churn_by_resolution"),
    ("revenue_at_risk",),
    ("quality_by_day", "quality_table"),
)


def _dashboard_yaml(backend: Backend) -> dict:
    charts = {c.key: c for c in CHARTS}
    position: dict = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"children": ["GRID_ID"], "id": "ROOT_ID", "type": "ROOT"},
        "HEADER_ID": {"id": "HEADER_ID", "meta": {"text": backend.title}, "type": "HEADER"},
    }
    grid = []
    intro_row = "ROW-intro"
    grid.append(intro_row)
    position[intro_row] = {
        "children": ["MARKDOWN-intro"],
        "id": intro_row,
        "meta": {"background": "BACKGROUND_TRANSPARENT"},
        "parents": ["ROOT_ID", "GRID_ID"],
        "type": "ROW",
    }
    position["MARKDOWN-intro"] = {
        "children": [],
        "id": "MARKDOWN-intro",
        "meta": {"code": _INTRO, "height": 30, "width": 6},
        "parents": ["ROOT_ID", "GRID_ID", intro_row],
        "type": "MARKDOWN",
    }
    for i, row in enumerate(_ROWS):
        row_id = f"ROW-{i}"
        grid.append(row_id)
        children = []
        for key in row:
            chart = charts[key]
            cid = f"CHART-{key}"
            children.append(cid)
            height = 30 if chart.viz_type == "big_number_total" else 50
            position[cid] = {
                "children": [],
                "id": cid,
                "meta": {
                    "chartId": 0,
                    "height": height,
                    "sliceName": chart.title,
                    "uuid": _uuid(backend.key, "chart", key),
                    "width": chart.width,
                },
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "type": "CHART",
            }
        if len(row) == 2 and row[0] == "fcr_headline":
            # The headline numbers share the intro's row.
            position[intro_row]["children"] += children
            for cid in children:
                position[cid]["parents"][2] = intro_row
            grid.pop()
            continue
        position[row_id] = {
            "children": children,
            "id": row_id,
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
            "parents": ["ROOT_ID", "GRID_ID"],
            "type": "ROW",
        }
    position["GRID_ID"] = {
        "children": grid,
        "id": "GRID_ID",
        "parents": ["ROOT_ID"],
        "type": "GRID",
    }
    return {
        "dashboard_title": backend.title,
        "description": None,
        "css": "",
        "slug": f"customer-outcomes-{backend.key}",
        "certified_by": "",
        "certification_details": "",
        "published": True,
        "uuid": _uuid(backend.key, "dashboard"),
        "position": position,
        "metadata": {
            "color_scheme": "supersetColors",
            "refresh_frequency": 0,
            "expanded_slices": {},
            "label_colors": {"final": "#1FA8C9", "provisional": "#FCC700"},
            "timed_refresh_immune_slices": [],
            "cross_filters_enabled": True,
            "native_filter_configuration": [],
        },
        "version": VERSION,
    }


def _database_yaml(backend: Backend) -> dict:
    return {
        "database_name": backend.database_name,
        "sqlalchemy_uri": backend.sqlalchemy_uri,
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_csv_upload": False,
        "extra": {"allows_virtual_table_explore": True},
        "uuid": _uuid(backend.key, "database"),
        "version": VERSION,
    }


def _file_name(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text).strip("_")


def bundle(backend_key: str, warehouse_schema: str = DEFAULT_SCHEMA) -> dict[str, dict]:
    """{path in the bundle: YAML document} for one backend ('postgresql' or 'duckdb')."""
    backend = BACKENDS[backend_key]
    schema = backend.schema(warehouse_schema)
    columns = relation_columns(warehouse_schema)
    db_file = _file_name(backend.database_name)
    files: dict[str, dict] = {
        "metadata.yaml": {
            "version": VERSION,
            "type": "Dashboard",
            "timestamp": "2026-01-01T00:00:00+00:00",
        },
        f"databases/{db_file}.yaml": _database_yaml(backend),
    }
    for ds in DATASETS:
        files[f"datasets/{db_file}/{ds.key}.yaml"] = _dataset_yaml(
            ds, backend, schema, columns[ds.key], _column_definitions(ds.key)
        )
    for chart in CHARTS:
        files[f"charts/{chart.key}.yaml"] = _chart_yaml(chart, backend)
    files[f"dashboards/{_file_name(backend.title)}.yaml"] = _dashboard_yaml(backend)
    return files


class _Dumper(yaml.SafeDumper):
    """Multi-line text (SQL, the intro's markdown) as a readable YAML block."""


def _text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _text)

_HEADER = "# Generated by `python -m outcome_pipeline.serving.superset_bundle`; do not edit.\n"


def render_bundle(backend_key: str, warehouse_schema: str = DEFAULT_SCHEMA) -> dict[str, str]:
    """{path: YAML text}: what ``bi/superset/bundles/<backend>/`` holds."""
    return {
        path: _HEADER
        + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        for path, doc in bundle(backend_key, warehouse_schema).items()
    }


def write_bundles(out: Path, warehouse_schema: str = DEFAULT_SCHEMA) -> list[Path]:
    """Write every backend's bundle under ``out/<backend>/`` (stale files removed)."""
    written = []
    for key in BACKENDS:
        root = out / key
        texts = render_bundle(key, warehouse_schema)
        if root.exists():
            for old in root.rglob("*.yaml"):
                if str(old.relative_to(root)) not in texts:
                    old.unlink()
        for path, text in texts.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bi/superset/bundles"))
    parser.add_argument("--schema", default=DEFAULT_SCHEMA, help="the warehouse schema")
    args = parser.parse_args(argv)
    paths = write_bundles(args.out, args.schema)
    print(f"wrote {len(paths)} files under {args.out}")


if __name__ == "__main__":
    main()
