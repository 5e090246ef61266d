"""The Apache Superset starter dashboard, as an import bundle generated from the table definitions.

Superset imports a folder of YAML files (databases, datasets, charts, dashboards). Written by
hand, a dataset's columns drift from the tables the day a column is added; here every dataset
column (name, type, definition) is read from the tables and BI views this code creates, and
every rate is a dataset metric ``sum(numerator) / sum(denominator)`` taken from ``RATES`` (the
tables' own definitions): a chart grouped by team or week shows the team's or week's rate,
never an average of daily rates. test_superset_bundle.py keeps the committed bundle
(``bi/superset/bundles/``) equal to :func:`render_bundle`.

Two bundles, one per place BI reads (docs/operations.md): the PostgreSQL BI schema
``<schema>_bi`` and the DuckDB BI file. Same datasets, charts and dashboard; their UUIDs
differ so both can live in one Superset. Each chart also carries its data query (Superset's
``query_context``), which the REST API runs (``GET /api/v1/chart/<id>/data/``): the test runs
them in a real Superset and compares every figure with SQL over the tables.

What the dashboard shows (datasets, metrics, charts, layout) is defined in
superset_catalog.py; this module turns it into Superset's YAML. Superset runs in its own
virtual environment (bi/superset/setup.sh); this module only writes text and needs neither
Superset nor a database server.
"""

from __future__ import annotations

import argparse
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from outcome_pipeline.serving.publish import BI_TABLES
from outcome_pipeline.serving.superset_catalog import (
    CHARTS,
    DASHBOARD_INTRO,
    DASHBOARD_ROWS,
    DATASETS,
    TIMESERIES,
    Chart,
    Dataset,
)
from outcome_pipeline.serving.views import _RENAMED, bi_view_sql
from outcome_pipeline.warehouse import DEFAULT_SCHEMA
from outcome_pipeline.warehouse.tables import check_identifier

# Stable UUIDs: a re-import updates the same objects instead of adding copies.
_NAMESPACE = uuid.UUID("6c1f1a52-7d0e-4f39-9d2b-0b5e3c0a2f22")
VERSION = "1.0.0"


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
    for source in ("daily_outcomes", "daily_outputs", "daily_agent_output_vs_outcome"):
        for c in tables[source].columns:
            out.setdefault(bi_names.get(c.name, c.name), c.comment)
    return out


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
    if chart.viz_type in TIMESERIES and chart.columns:
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
        "meta": {"code": DASHBOARD_INTRO, "height": 30, "width": 6},
        "parents": ["ROOT_ID", "GRID_ID", intro_row],
        "type": "MARKDOWN",
    }
    for i, row in enumerate(DASHBOARD_ROWS):
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
