"""The report page as a person sees it: opened in headless Chromium on a closed network (every
non-loopback request refused), on the fixture week in DuckDB and in PostgreSQL."""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from matplotlib.image import imread

from outcome_pipeline.report import CHARTS, SUMMARY, build_report
from outcome_pipeline.report.page import exact, fmt
from outcome_pipeline_tests.conftest import CHROMIUM_ARGS
from outcome_pipeline_tests.outcomes import fixture as fx

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def served(fixture_warehouse, tmp_path: Path) -> Iterator[tuple[str, object, object]]:
    wh, out = fixture_warehouse
    report = build_report(wh, fx.D1, fx.D3, tmp_path / "report")
    handler = functools.partial(_Quiet, directory=str(report.path.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}/{report.path.name}", wh, out
    server.shutdown()
    server.server_close()


def _look(chromium: str, url: str) -> dict:
    """Open the page like a reader: every figure table expanded; what the browser showed."""
    from playwright.sync_api import sync_playwright

    refused: list[str] = []
    errors: list[str] = []

    def route(r) -> None:
        if urlsplit(r.request.url).hostname in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", route)
            page.goto(url, wait_until="load")
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            shots, loaded = {}, {}
            for chart in CHARTS:
                img = page.locator(f'img.chart[data-chart="{chart.id}"]')
                loaded[chart.id] = img.evaluate("i => i.complete && i.naturalWidth > 0")
                shots[chart.id] = img.screenshot()
            tables = {}
            for chart in CHARTS:
                cells = page.locator(f'table.figures[data-chart="{chart.id}"] tbody tr')
                tables[chart.id] = cells.evaluate_all(
                    """rows => rows.map(r => Array.from(r.querySelectorAll('td')).map(
                        td => [td.dataset.col, td.dataset.value, td.innerText]))"""
                )
            tiles = page.locator(f'div.tiles[data-chart="{SUMMARY.id}"] .big').evaluate_all(
                "ts => ts.map(t => [t.dataset.col, t.dataset.value, t.innerText])"
            )
            text = page.locator("body").inner_text()
            links = page.locator("p.how a").evaluate_all(
                "as => as.map(a => a.getAttribute('href'))"
            )
        finally:
            browser.close()
    return {
        "refused": refused,
        "errors": errors,
        "shots": shots,
        "loaded": loaded,
        "tables": tables,
        "tiles": tiles,
        "text": text,
        "links": links,
    }


def _non_blank(png: bytes) -> bool:
    pixels = imread(io.BytesIO(png), format="png")
    flat = pixels.reshape(-1, pixels.shape[-1])
    return len(np.unique(flat, axis=0)) > 20  # a chart, not an empty box


def test_the_report_opens_offline_and_shows_what_sql_says(chromium: str, served) -> None:
    url, wh, out = served
    seen = _look(chromium, url)
    assert seen["refused"] == [] and seen["errors"] == []
    for chart in CHARTS:
        assert seen["loaded"][chart.id], chart.id
        assert _non_blank(seen["shots"][chart.id]), chart.id
    # Every chart links its definitions: in the page, and the data dictionary's anchor.
    assert {f"#def-{t}" for c in CHARTS for t in c.tables} <= set(seen["links"])

    # The printed figures are the rows of each chart's SQL, exactly and as formatted.
    sql = {
        c.id: wh.query(c.sql.format(**_qualified(wh)), {"start": fx.D1, "end": fx.D3})
        for c in (SUMMARY, *CHARTS)
    }
    (summary,) = sql[SUMMARY.id].to_pylist()
    assert seen["tiles"] == [
        [c.name, exact(summary[c.name]), fmt(summary[c.name], c.fmt)] for c in SUMMARY.columns
    ]
    for chart in CHARTS:
        expected = sql[chart.id].to_pylist()[: chart.print_rows]
        printed = seen["tables"][chart.id]
        assert len(printed) == len(expected), chart.id
        for row, want in zip(printed, expected, strict=True):
            assert [c[0] for c in row] == [c.name for c in chart.columns]
            for (name, value, text), column in zip(row, chart.columns, strict=True):
                assert value == exact(want[name]), (chart.id, name)
                assert text == fmt(want[name], column.fmt), (chart.id, name)

    # And the headline figures match SQL written here, independently of the report's.
    teams = {
        r["team"]: r
        for r in wh.query(
            f"SELECT team, sum(legs_handled) AS n, sum(handle_seconds_sum) AS s "
            f"FROM {wh.qualified('daily_agent_output_vs_outcome')} GROUP BY team"
        ).to_pylist()
    }
    printed = {row[0][1]: {c[0]: c[1] for c in row} for row in seen["tables"][CHARTS[0].id]}
    for team, r in teams.items():
        assert int(printed[team]["legs_handled"]) == r["n"]
        assert float(printed[team]["aht_seconds"]) == pytest.approx(float(r["s"]) / int(r["n"]))
    day = wh.query(
        f"SELECT sum(fcr_journeys) AS f, sum(journeys_ended) AS e "
        f"FROM {wh.qualified('daily_outcomes')} WHERE partition_date = :d",
        {"d": fx.D1},
    ).to_pylist()[0]
    trend = {row[0][1]: {c[0]: c[1] for c in row} for row in seen["tables"]["daily_trends"]}
    assert float(trend[fx.D1.isoformat()]["fcr_rate"]) == int(day["f"]) / int(day["e"])

    # No customer identifier reaches the page: raw ones, pseudonyms, or a quarantined row's.
    keys = {k for k in out["journeys"]["customer_key"].to_pylist() if k}
    for secret in (*fx.RAW_IDENTIFIERS, *keys, "alice@example.com"):
        assert secret.lower() not in seen["text"].lower(), secret


def _qualified(wh) -> dict[str, str]:
    names = {t for c in (SUMMARY, *CHARTS) for t in c.tables}
    return {n: wh.qualified(n) for n in names}
