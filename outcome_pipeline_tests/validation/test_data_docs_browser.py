"""Data Docs open in a browser on a closed network: served over HTTP, every asset shipped."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from outcome_pipeline.validation import write_data_docs
from outcome_pipeline.validation.docs_server import make_server
from outcome_pipeline_tests.conftest import CHROMIUM_ARGS
from outcome_pipeline_tests.validation.fixtures import DAY
from outcome_pipeline_tests.validation.test_data_docs import _validations

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("gx_imported")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    """One table's site per folder, as the staging assets write them, served on port 0."""
    root = tmp_path_factory.mktemp("data_docs")
    runs = _validations()["runs"]
    for table, v in runs.items():
        write_data_docs({table: v}, root / table, DAY)
    server = make_server(root)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}", runs
    server.shutdown()
    server.server_close()


def _open(chromium: str, url: str, read) -> tuple[object, list[str]]:
    """Load ``url`` with every non-loopback request refused; return ``read(page)``, refused."""
    from playwright.sync_api import sync_playwright

    refused: list[str] = []

    def route(r) -> None:
        host = urlsplit(r.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", route)
            page.goto(url, wait_until="load")
            return read(page), refused
        finally:
            browser.close()


def test_the_index_lists_the_validation_offline(chromium: str, served: tuple[str, dict]) -> None:
    base, runs = served
    v = runs["interactions"]

    def read(page) -> dict[str, object]:
        table = page.locator("table.ge-index-page-validation-results-table")
        table.locator("tbody tr").first.wait_for(state="visible", timeout=10_000)
        rows = table.locator("tbody tr")
        return {
            "visible": table.is_visible(),
            "rows": [rows.nth(i).inner_text() for i in range(rows.count())],
            "icon": rows.first.locator("i").first.get_attribute("class"),
            # Bootstrap's CSS applied: its .table-sm padding, not the browser's default 1px.
            "padding": table.locator("td").first.evaluate("e => getComputedStyle(e).paddingTop"),
        }

    seen, refused = _open(chromium, f"{base}/interactions/index.html", read)
    assert refused == []
    assert seen["visible"]
    assert len(seen["rows"]) == 1
    row = seen["rows"][0]
    assert "interactions" in row and v.day.isoformat() in row
    assert ("fa-check-circle" if v.success else "fa-times") in seen["icon"]
    assert seen["padding"] == "4.8px", seen["padding"]


def test_a_validation_page_shows_its_results_offline(
    chromium: str, served: tuple[str, dict]
) -> None:
    base, runs = served
    v = runs["interactions"]
    channel = next(e for e in v.expectations if e.name == "channel_allowed")

    def read(page) -> dict[str, object]:
        page.locator("table.ge-index-page-validation-results-table tbody tr").first.click()
        page.wait_for_url("**/validations/**")
        stats = page.locator("#section-1-content-block-2-body")
        return {
            "url": page.url,
            "stats": " ".join(stats.inner_text().split()) if stats.is_visible() else "",
            "channel": page.get_by_text(
                f"{channel.unexpected_count} unexpected values found"
            ).first.is_visible(),
            # Font Awesome's solid font loaded from the shipped copy: the icons have a glyph.
            "icon_font": page.evaluate(
                "document.fonts.check('900 16px \"Font Awesome 6 Free\"')"
                " && [...document.fonts].some(f => f.status === 'loaded')"
            ),
        }

    seen, refused = _open(chromium, f"{base}/interactions/index.html", read)
    assert refused == []
    assert "/validations/interactions/" in seen["url"]
    evaluated = len(v.expectations)
    successful = sum(1 for e in v.expectations if e.success)
    assert f"Evaluated Expectations {evaluated} " in seen["stats"]
    assert f"Successful Expectations {successful} " in seen["stats"]
    assert seen["channel"]
    assert seen["icon_font"]


def test_pages_name_no_remote_asset(served: tuple[str, dict], tmp_path: Path) -> None:
    """The shipped copies replace every CDN load; only plain links to GX's site remain."""
    _, runs = served
    folder = tmp_path / "docs"
    write_data_docs({"customers": runs["customers"]}, folder, DAY)
    text = "\n".join(p.read_text() for p in folder.rglob("*.html"))
    text += "\n".join(p.read_text() for p in folder.rglob("*.css"))
    loads = re.findall(r'(?:src=|<link[^>]*href=|url\()["\']?(https?://[^"\')]+)', text)
    assert loads == []
