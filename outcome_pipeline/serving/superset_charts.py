"""A chart of the catalog as Superset keeps it: its form data (``params``) and the query its
data API runs (``query_context``). Pure: reads only the :class:`Chart`."""

from __future__ import annotations

from outcome_pipeline.serving.superset_catalog import TIMESERIES, Chart


def _adhoc_max(expression: str) -> dict:
    """``MAX(column)`` as an ad-hoc metric (a view row is already one day's value)."""
    column = expression.removeprefix("MAX(").removesuffix(")")
    return {
        "expressionType": "SQL",
        "sqlExpression": f"MAX({column})",
        "label": column,
        "hasCustomLabel": True,
    }


def chart_metric(m: str) -> str | dict:
    return _adhoc_max(m) if m.startswith("MAX(") else m


def metric_label(m: str) -> str:
    """The name a metric's values carry in Superset's data response."""
    return m.removeprefix("MAX(").removesuffix(")")


def chart_query(chart: Chart) -> dict:
    """The query object Superset runs for ``chart`` (what its data API returns)."""
    metrics = [chart_metric(m) for m in chart.metrics]
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
    orderby = [[chart_metric(order), False]] if order else []
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


def chart_params(chart: Chart) -> dict:
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
    metrics = [chart_metric(m) for m in chart.metrics]
    p: dict = {
        "viz_type": chart.viz_type,
        "adhoc_filters": adhoc,
        "row_limit": chart.row_limit,
        "color_scheme": "supersetColors",
        "extra_form_data": {},
    }
    if chart.viz_type == "big_number_total":
        p.update(metric=metrics[0], y_axis_format=format_of(chart.metrics[0]), header_font_size=0.4)
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
            timeseries_limit_metric=chart_metric(chart.order_by) if chart.order_by else None,
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
            y_axis_format=format_of(chart.metrics[0]),
            markerEnabled=True,
        )
    p.update(chart.extra_params)
    return p


def format_of(metric: str) -> str:
    name = metric_label(metric)
    if name.endswith(("_rate", "_share")):
        return ".1%"
    return ",.1f" if name in ("nps", "contacts_per_resolution") else "SMART_NUMBER"
