"""A backfill of an outcome asset through the Dagster UI's own dialogs, in headless Chromium.

The first hour of a new user: `outcome-pipeline run` in the project folder (no DAGSTER_HOME:
the CLI records into the project's ``dagster_home/``), then ``dagster-webserver`` and
``dagster-daemon`` started in that folder, configured only by its ``.env`` (what
``dagster dev`` reads). In the browser: open ``daily_outcomes``, *Materialize…*, confirm the
one dialog Dagster forces (the outcome tables are one multi-asset, computed and written in one
transaction, so it cannot be subset and the UI lists the sibling tables), pick a range of days,
*Launch backfill*: no "Upstream data missing" dialog, since the instance knows the CLI staged
those days. The backfill must succeed, and record each day with its own row count.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from outcome_pipeline.cli.main import main
from outcome_pipeline.defs.tags import RANGE_END, RANGE_START
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.outcomes import OUTCOME_TABLES
from outcome_pipeline.warehouse import Warehouse
from outcome_pipeline_tests.automation.dagster_ui import (
    REPO,
    Dagster,
    free_port,
    stop_automation,
    wait_for_backfill,
    wait_until_loaded,
)
from outcome_pipeline_tests.conftest import CHROMIUM_ARGS
from outcome_pipeline_tests.dagster_internals import InstanceRef

pytestmark = [pytest.mark.slow, pytest.mark.browser]

FIRST, LAST = date(2024, 1, 1), date(2024, 1, 3)
UI_TIMEOUT_MS = 60_000

LATEST_BACKFILL = """
query { partitionBackfillsOrError(limit: 1) {
  __typename ... on PartitionBackfills { results { id } } } }
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dagster]:
    """A project folder (dagster_home/dagster.yaml, .env, landing) and the processes' env:
    the shell's, without any OUTCOME_ or DAGSTER_ variable (the .env is the configuration)."""
    (tmp_path / "dagster_home").mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", tmp_path / "dagster_home")
    settings = {
        "OUTCOME_START_DATE": FIRST.isoformat(),
        "OUTCOME_LANDING_DIR": str(tmp_path / "landing"),
        "OUTCOME_WAREHOUSE_URL": f"duckdb:///{tmp_path}/warehouse.duckdb",
        "OUTCOME_DATA_DOCS_DIR": str(tmp_path / "data_docs"),
        "OUTCOME_BI_COPY_PATH": str(tmp_path / "warehouse_bi.duckdb"),
        "OUTCOME_MAX_QUARANTINE_SHARE": "0.5",
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    for key in [k for k in os.environ if k.startswith(("OUTCOME_", "DAGSTER_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DAGSTER_HOME", "")  # recorded: the values the CLI sets are undone
    monkeypatch.delenv("DAGSTER_HOME")
    for key in settings:
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTCOME_", "DAGSTER_"))}
    d = Dagster(home=tmp_path, env=env, port=free_port())
    try:
        yield d
    finally:
        d.stop_all()
        if d.processes:
            print(d.logs())


def _dismiss_popups(page: Page) -> None:
    """A fresh browser profile may get Dagster's one-time survey; skip it."""
    skip = page.get_by_role("button", name="Skip")
    if skip.count():
        skip.first.click()


def _launch_from_the_asset_page(page: Page, url: str) -> list[str]:
    """Open daily_outcomes, Materialize…, select FIRST..LAST, Launch; the dialogs' titles."""
    seen = []
    page.goto(f"{url}/assets/daily_outcomes", wait_until="networkidle", timeout=UI_TIMEOUT_MS)
    for attempt in range(3):  # the survey may open a moment after the page (it blocks clicks)
        _dismiss_popups(page)
        try:
            page.get_by_role("button", name="Materialize…").click(timeout=10_000)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    additional = page.get_by_text("Additional assets will be materialized").first
    launch = page.get_by_text("Launch runs to materialize").first
    upstream = page.get_by_text("Upstream data missing").first
    additional.or_(launch).or_(upstream).wait_for(timeout=UI_TIMEOUT_MS)
    if additional.is_visible():
        seen.append("Additional assets will be materialized")
        page.get_by_role("button", name="Confirm").click()
        launch.or_(upstream).wait_for(timeout=UI_TIMEOUT_MS)
    if upstream.is_visible():
        return [*seen, "Upstream data missing"]
    # The dialog opens on the last 90 days; its banner offering the rest renders a moment after
    # the partition selection does.
    page.get_by_text("Partition selection").first.wait_for(timeout=UI_TIMEOUT_MS)
    show_all = page.get_by_text("Show all partitions")
    try:
        show_all.wait_for(timeout=5_000)
    except PlaywrightTimeoutError:
        pass  # every partition is within the last 90 days
    else:
        show_all.click()
        show_all.wait_for(state="hidden", timeout=UI_TIMEOUT_MS)
    keys = page.locator("[role=dialog] input[type=text]").first
    keys.fill(f"[{FIRST.isoformat()}...{LAST.isoformat()}]")
    keys.press("Enter")
    count = (LAST - FIRST).days + 1
    page.get_by_text(f"{count} partitions", exact=True).wait_for(timeout=UI_TIMEOUT_MS)
    page.get_by_role("button", name="Launch backfill").click()
    created = page.get_by_text("Created backfill").first
    created.or_(upstream).wait_for(timeout=UI_TIMEOUT_MS)
    if upstream.is_visible():
        seen.append("Upstream data missing")
    return seen


def test_ui_backfill_of_an_outcome_asset_through_the_dialogs(
    project: Dagster, chromium: str
) -> None:
    generate(
        GeneratorConfig(
            out_dir=project.home / "landing", start=FIRST, days=4, interactions_per_day=300, seed=5
        )
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # the CLI, as a user runs it in the project folder
        assert main(["run", "--start", FIRST.isoformat(), "--end", LAST.isoformat()]) == 0
    # After the CLI: two processes creating a fresh SQLite instance's tables at the same
    # moment can collide (alembic_version "already exists"), a Dagster limitation.
    webserver = project.start("dagster-webserver", "-h", "127.0.0.1", "-p", str(project.port))
    repo = wait_until_loaded(project, webserver)
    stop_automation(project, repo)  # only the backfill writes
    project.start("dagster-daemon", "run")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            dialogs = _launch_from_the_asset_page(page, project.url)
        finally:
            browser.close()
    # The multi-asset's dialog is Dagster's (a non-subsettable selection); no other.
    assert dialogs == ["Additional assets will be materialized"], dialogs

    (latest,) = project.gql(LATEST_BACKFILL)["partitionBackfillsOrError"]["results"]
    backfill = wait_for_backfill(project, latest["id"])
    project.stop_all()  # one process per DuckDB file
    runs = backfill["runs"]
    assert [r["status"] for r in runs] == ["SUCCESS"], runs
    tags = {t["key"]: t["value"] for t in runs[0]["tags"]}
    assert tags[RANGE_START] == FIRST.isoformat()
    assert tags[RANGE_END] == LAST.isoformat()
    assert sorted(k["path"][0] for k in runs[0]["assetSelection"]) == sorted(OUTCOME_TABLES)

    wh = Warehouse(f"duckdb:///{project.home}/warehouse.duckdb", "outcome")
    try:
        rows = wh.query(
            f"SELECT partition_date AS d, count(*) AS n FROM {wh.qualified('daily_outcomes')} "
            "GROUP BY 1"
        ).to_pylist()
    finally:
        wh.dispose()
    want = {r["d"].isoformat(): r["n"] for r in rows}
    home = str(project.home / "dagster_home")
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(home)) as instance:
        key = dg.AssetKey("daily_outcomes")
        for day, n in want.items():
            (record,) = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=1
            ).records
            assert record.run_id == runs[0]["runId"], day  # the backfill's, the latest
            assert record.asset_materialization.metadata["dagster/row_count"].value == n > 0
