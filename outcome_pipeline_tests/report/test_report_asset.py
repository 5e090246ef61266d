"""The ``outcome_report`` asset on the fixture week: the page written where the settings say,
for the configured days, and the headline chart shown in its metadata."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from outcome_pipeline.defs.resources import WarehouseResource
from outcome_pipeline.defs.serving.report import outcome_report, report_range
from outcome_pipeline.settings import Settings
from outcome_pipeline_tests.outcomes import fixture as fx


def test_the_report_range_is_the_configured_days_from_the_start_date_on() -> None:
    s = Settings(report_days=28, start_date="2024-06-01")
    assert report_range(date(2024, 6, 30), s) == (date(2024, 6, 3), date(2024, 6, 30))
    assert report_range(date(2024, 6, 10), s) == (date(2024, 6, 1), date(2024, 6, 10))


def test_report_days_must_be_at_least_one() -> None:
    from outcome_pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="OUTCOME_REPORT_DAYS"):
        Settings.from_env({"OUTCOME_REPORT_DAYS": "0"})


@pytest.mark.slow
def test_the_asset_writes_the_page_and_shows_the_headline(
    fixture_warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh, _ = fixture_warehouse
    folder = tmp_path / "report"
    monkeypatch.setenv("OUTCOME_REPORT_DIR", str(folder))
    monkeypatch.setenv("OUTCOME_REPORT_DAYS", "2")
    result = dg.materialize(
        [outcome_report],
        partition_key=fx.D3.isoformat(),
        resources={"warehouse": WarehouseResource(url=str(wh.url), schema_name=wh.schema)},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    meta = event.materialization.metadata
    page = folder / "index.html"
    assert meta["page"].value == str(page.resolve()) and page.exists()
    assert meta["report_days"].value == f"{fx.D2}..{fx.D3}"
    assert "](data:image/png;base64," in meta["headline"].value
    assert meta["chart_rows"].value["daily_trends"] == 2
    assert {p.name for p in folder.glob("*.png")} >= {"teams_outputs_vs_outcomes.png"}
    # A run of an older day (a restatement) keeps the window at the latest computed day.
    again = dg.materialize(
        [outcome_report],
        partition_key=fx.D1.isoformat(),
        resources={"warehouse": WarehouseResource(url=str(wh.url), schema_name=wh.schema)},
        instance=dg.DagsterInstance.ephemeral(),
    )
    (event,) = again.get_asset_materialization_events()
    assert event.materialization.metadata["report_days"].value == f"{fx.D2}..{fx.D3}"


@pytest.mark.slow
def test_the_command_writes_the_report_or_says_why_not(
    fixture_warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from outcome_pipeline.cli.main import main

    wh, _ = fixture_warehouse
    monkeypatch.setenv("OUTCOME_WAREHOUSE_URL", wh.url.render_as_string(hide_password=False))
    monkeypatch.setenv("OUTCOME_WAREHOUSE_SCHEMA", wh.schema)
    monkeypatch.chdir(tmp_path)  # no ./.env of the project's
    out = tmp_path / "r"
    args = ["report", "--start", fx.D1.isoformat(), "--end", fx.D3.isoformat(), "--out", str(out)]
    assert main(args) == 0
    assert f"report {fx.D1}..{fx.D3}: {(out / 'index.html').resolve()}" in capsys.readouterr().out
    assert main([*args[:2], fx.D3.isoformat(), "--end", fx.D1.isoformat()]) == 2
    monkeypatch.setenv("OUTCOME_WAREHOUSE_SCHEMA", "nothing_here")
    assert main(args) == 1
    assert "Run the pipeline for these days first" in capsys.readouterr().err
