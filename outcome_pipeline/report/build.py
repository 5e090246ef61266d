"""Build the outcome report: run each chart's SQL on the warehouse, draw it, write the page.

Reading (the warehouse) and drawing (matplotlib) are apart: :func:`read_rows` is the only
I/O with the warehouse, :func:`render` turns rows into files.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from outcome_pipeline.report.draw import DRAW
from outcome_pipeline.report.page import chart_section, definitions, page, summary_tiles
from outcome_pipeline.report.spec import CHARTS, HEADLINE, SUMMARY, Chart, chart_sql
from outcome_pipeline.warehouse import LOAD_AUDIT, Warehouse
from outcome_pipeline.warehouse.tables import QUARANTINE_TABLES, TableDef

PAGE_NAME = "index.html"
# The data dictionary of a source checkout (linked from the page when it exists).
DICTIONARY = Path(__file__).resolve().parents[2] / "docs" / "data_dictionary.md"


@dataclass(frozen=True)
class Report:
    path: Path  # the HTML page
    charts: dict[str, Path]  # chart id -> PNG file beside the page
    rows: dict[str, list[dict]]  # chart id -> the rows of its SQL, as drawn
    headline_thumbnail: bytes  # a small PNG of the headline chart (Dagster metadata)
    read_seconds: float
    draw_seconds: float


def _table_defs() -> dict[str, TableDef]:
    from outcome_pipeline.outcomes import OUTCOME_TABLES

    return {
        **OUTCOME_TABLES,
        LOAD_AUDIT.name: LOAD_AUDIT,
        **{t.name: t for t in QUARANTINE_TABLES.values()},
    }


def read_rows(wh: Warehouse, start: date, end: date) -> dict[str, list[dict]]:
    """Every chart's rows for the business days ``start``..``end`` (inclusive)."""
    if end < start:
        raise ValueError(f"report range ends ({end}) before it starts ({start})")
    params = {"start": start, "end": end}
    return {
        c.id: wh.query(chart_sql(c, wh.qualified), params).to_pylist() for c in (SUMMARY, *CHARTS)
    }


def _png(fig, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _dictionary_href(out_dir: Path) -> str | None:
    if not DICTIONARY.exists():
        return None
    return Path(os.path.relpath(DICTIONARY, out_dir.resolve())).as_posix()


def render(
    rows: dict[str, list[dict]],
    start: date,
    end: date,
    out_dir: Path,
    facts: dict[str, str] | None = None,
    charts: tuple[Chart, ...] = CHARTS,
) -> tuple[Path, dict[str, Path], bytes]:
    """Draw every chart, write ``<id>.png`` and the page into ``out_dir``; return the page,
    the PNG files and a thumbnail of the headline chart."""
    out_dir.mkdir(parents=True, exist_ok=True)
    href = _dictionary_href(out_dir)
    sections, files = [summary_tiles(SUMMARY, rows[SUMMARY.id])], {}
    thumbnail = b""
    for chart in charts:
        fig = DRAW[chart.draw](chart, rows[chart.id])
        png = _png(fig)
        if chart.id == HEADLINE:
            thumbnail = _png(fig, dpi=60)
        path = out_dir / f"{chart.id}.png"
        path.write_bytes(png)
        files[chart.id] = path
        sections.append(chart_section(chart, rows[chart.id], png, href))
    defs = _table_defs()
    used = [defs[t] for t in dict.fromkeys(t for c in (SUMMARY, *charts) for t in c.tables)]
    text = page(start, end, sections, definitions(used), facts or {})
    target = out_dir / PAGE_NAME
    # Written beside and renamed: a reader never opens half a page.
    partial = out_dir / f".{PAGE_NAME}.partial"
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)
    return target, files, thumbnail


def build_report(
    wh: Warehouse, start: date, end: date, out_dir: Path, facts: dict[str, str] | None = None
) -> Report:
    """Read the daily tables for ``start``..``end`` and write the report into ``out_dir``."""
    t0 = time.perf_counter()
    rows = read_rows(wh, start, end)
    t1 = time.perf_counter()
    days = (end - start).days + 1
    facts = {"days": f"{days}", **(facts or {})}
    path, files, thumbnail = render(rows, start, end, out_dir, facts)
    return Report(path, files, rows, thumbnail, t1 - t0, time.perf_counter() - t1)
