"""The report's HTML page: one self-contained file (charts embedded as PNG data URIs, inline
CSS, no script, nothing fetched), readable offline and safe to mail.

Every printed figure carries its exact value in ``data-value`` beside the formatted text, so a
test can compare the page with SQL over the tables. Text from the warehouse (team and agent
names, reason codes) is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import math
from datetime import date, datetime

from outcome_pipeline.report.spec import Chart, Column
from outcome_pipeline.warehouse.tables import TableDef

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #f6f7f9; }
header { background: #1f3a5f; color: white; padding: 16px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 24px; }
main { padding: 8px 32px 32px 32px; max-width: 1200px; }
section.chart { background: white; border-radius: 6px; padding: 12px 20px; margin: 16px 0;
                box-shadow: 0 1px 2px rgba(0,0,0,.08); }
section.chart h2 { margin: 4px 0; font-size: 18px; }
p.how { margin: 4px 0 8px 0; color: #444; }
p.how b { color: #1f3a5f; }
img.chart { max-width: 100%; height: auto; display: block; }
table.figures { border-collapse: collapse; font-size: 12px; margin-top: 8px; }
table.figures th, table.figures td { padding: 2px 8px; border-bottom: 1px solid #e4e4e4;
                                     text-align: right; }
table.figures th:first-child, table.figures td.text { text-align: left; }
details summary { cursor: pointer; color: #1f3a5f; font-size: 13px; }
.note { color: #666; font-size: 12px; }
div.tiles { display: flex; flex-wrap: wrap; gap: 12px; }
div.tile { background: #eef2f7; border-radius: 6px; padding: 8px 14px; min-width: 130px;
           font-size: 13px; color: #444; }
div.tile .big { font-size: 26px; font-weight: 600; color: #1f3a5f; }
dl.definitions dt { font-family: monospace; margin-top: 6px; }
dl.definitions dd { margin-left: 16px; color: #444; font-size: 13px; }
"""


def fmt(value: object, kind: str) -> str:
    """A figure as the page prints it ('–' for NULL)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "pct":
        return f"{value:.1%}"
    if kind == "float1":
        return f"{value:.1f}"
    if kind == "float2":
        return f"{value:.2f}"
    if kind == "seconds":
        return f"{value:.0f} s"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "date":
        return value.isoformat() if isinstance(value, date | datetime) else str(value)
    if kind == "int":
        return f"{int(value):,}"
    return str(value)


def exact(value: object) -> str:
    """The exact value in ``data-value``: repr of floats (round-trips), ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _cell(column: Column, value: object) -> str:
    cls = ' class="text"' if column.fmt in ("text", "date") else ""
    return (
        f'<td{cls} data-col="{column.name}" data-value="{html.escape(exact(value))}">'
        f"{html.escape(fmt(value, column.fmt))}</td>"
    )


def figures_table(chart: Chart, rows: list[dict]) -> str:
    shown = rows[: chart.print_rows]
    head = "".join(f"<th>{html.escape(c.label)}</th>" for c in chart.columns)
    body = "\n".join(
        "<tr>" + "".join(_cell(c, r[c.name]) for c in chart.columns) + "</tr>" for r in shown
    )
    more = (
        f'<p class="note">{len(rows) - len(shown):,} more rows in the chart, not listed.</p>'
        if len(rows) > len(shown)
        else ""
    )
    return (
        f"<details><summary>Figures ({len(shown):,} of {len(rows):,} rows)</summary>"
        f'<table class="figures" data-chart="{chart.id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n{body}\n</tbody></table>{more}</details>"
    )


def summary_tiles(chart: Chart, rows: list[dict]) -> str:
    """The summary's one row as tiles (big number, label), each with its exact value."""
    row = rows[0] if rows else {c.name: None for c in chart.columns}
    tiles = "".join(
        f'<div class="tile"><div class="big" data-col="{c.name}" '
        f'data-value="{html.escape(exact(row[c.name]))}">{html.escape(fmt(row[c.name], c.fmt))}'
        f"</div><div>{html.escape(c.label)}</div></div>"
        for c in chart.columns
    )
    links = ", ".join(f'<a href="#def-{t}">{t}</a>' for t in chart.tables)
    return (
        f'<section class="chart" id="{chart.id}"><h2>{html.escape(chart.title)}</h2>'
        f'<p class="how"><b>How to read this:</b> {html.escape(chart.how_to_read)} '
        f'<span class="note">Definitions: {links}</span></p>'
        f'<div class="tiles" data-chart="{chart.id}">{tiles}</div></section>'
    )


def chart_section(chart: Chart, rows: list[dict], png: bytes, dictionary_href: str | None) -> str:
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    links = ", ".join(f'<a href="#def-{t}">{t}</a>' for t in chart.tables)
    external = (
        " · "
        + ", ".join(
            f'<a href="{dictionary_href}#{t}">data dictionary</a>' for t in chart.tables[:1]
        )
        if dictionary_href
        else ""
    )
    return f"""<section class="chart" id="{chart.id}">
<h2>{html.escape(chart.title)}</h2>
<p class="how"><b>How to read this:</b> {html.escape(chart.how_to_read)}
<span class="note">Definitions: {links}{external}</span></p>
<img class="chart" alt="{html.escape(chart.title)}" src="{src}" data-chart="{chart.id}">
{figures_table(chart, rows)}
</section>"""


def definitions(tables: list[TableDef]) -> str:
    """The definitions of every table the charts read, from the same TableDefs that write the
    data dictionary and the column comments: the page explains itself offline."""
    parts = []
    for t in tables:
        cols = "".join(
            f"<dt>{html.escape(c.name)}</dt><dd>{html.escape(c.comment)}</dd>" for c in t.columns
        )
        parts.append(
            f'<section class="chart" id="def-{t.name}"><h2>{t.name}</h2>'
            f'<p>{html.escape(t.comment)}</p><dl class="definitions">{cols}</dl></section>'
        )
    return "\n".join(parts)


def page(
    start: date,
    end: date,
    sections: list[str],
    defs: str,
    facts: dict[str, str],
) -> str:
    facts_html = " · ".join(f"{html.escape(k)}: {html.escape(v)}" for k, v in facts.items())
    body = "\n".join(sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer outcomes {start} to {end}</title>
<style>{CSS}</style></head>
<body>
<header><h1>Customer outcomes, {start} to {end}</h1>
<div>{facts_html}</div></header>
<main>
{body}
<h2 id="definitions">Definitions</h2>
<p class="note">From the data dictionary (docs/data_dictionary.md), generated from the same
table definitions as the warehouse column comments.</p>
{defs}
</main></body></html>
"""
