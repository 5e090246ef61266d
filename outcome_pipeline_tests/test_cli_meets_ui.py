"""The CLI and the Dagster UI agree: one instance, one configuration, counts per day.

A CLI run in a project folder records its materializations in the project's ``dagster_home/``
(the instance `dagster dev` shows), one per day with that day's rows; a range's days whose
interactions are not staged are marked as not computed, without a row count; the demo's days
end yesterday and become the whole partition set, in a ``.env`` that Dagster's CLI reads.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from outcome_pipeline.cli.main import main
from outcome_pipeline.cli.project import demo_days, load_env_file, open_instance, write_demo_env
from outcome_pipeline.defs.ingest.assets import staging_assets
from outcome_pipeline.defs.outcomes.assets import outcome_tables
from outcome_pipeline.defs.resources import LandingResource, ValidationResource, WarehouseResource
from outcome_pipeline.defs.tags import RANGE_END, RANGE_START
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.warehouse import Warehouse
from outcome_pipeline_tests.dagster_internals import InstanceRef

REPO = Path(__file__).resolve().parents[1]
DAYS = [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder as a fresh clone has it: dagster_home/dagster.yaml, no DAGSTER_HOME."""
    (tmp_path / "dagster_home").mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", tmp_path / "dagster_home")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", "")  # recorded, so the value the CLI sets is undone
    monkeypatch.delenv("DAGSTER_HOME")
    monkeypatch.setenv("OUTCOME_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("OUTCOME_WAREHOUSE_URL", f"duckdb:///{tmp_path}/warehouse.duckdb")
    monkeypatch.setenv("OUTCOME_WAREHOUSE_SCHEMA", "outcome")
    monkeypatch.setenv("OUTCOME_DATA_DOCS_DIR", str(tmp_path / "docs"))
    monkeypatch.setenv("OUTCOME_MAX_QUARANTINE_SHARE", "0.5")
    return tmp_path


def _rows_per_day(url: str, table: str) -> dict[str, int]:
    wh = Warehouse(url, "outcome")
    try:
        rows = wh.query(
            f"SELECT partition_date AS d, count(*) AS n FROM {wh.qualified(table)} GROUP BY 1"
        ).to_pylist()
    finally:
        wh.dispose()
    return {r["d"].isoformat(): r["n"] for r in rows}


def _latest_counts(instance: dg.DagsterInstance, key: str) -> dict[str, object]:
    """Per partition: the row count of its latest materialization (None when it has none)."""
    asset_key = dg.AssetKey(key)
    out: dict[str, object] = {}
    for partition in instance.get_materialized_partitions(asset_key):
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition]), limit=1
        ).records
        event = records[0].asset_materialization
        value = event.metadata.get("dagster/row_count")
        out[partition] = value.value if value is not None else None
    return out


@pytest.mark.slow
def test_a_cli_run_is_visible_in_the_project_instance_with_counts_per_day(
    project: Path,
) -> None:
    generate(
        GeneratorConfig(
            out_dir=project / "landing", start=DAYS[0], days=3, interactions_per_day=300, seed=5
        )
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", "--start", "2024-01-01", "--end", "2024-01-03"])
    assert code == 0, out.getvalue()
    home = (project / "dagster_home").resolve()
    assert f"run history: {home}" in out.getvalue()

    # What `DAGSTER_HOME=$PWD/dagster_home dagster dev` opens.
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        url = os.environ["OUTCOME_WAREHOUSE_URL"]
        for table in ("stg_interactions", "daily_outcomes", "journeys"):
            want = _rows_per_day(url, table)
            assert set(want) == {d.isoformat() for d in DAYS}, table
            assert _latest_counts(instance, table) == want, table
    # The summary adds the days up.
    total = sum(_rows_per_day(url, "stg_interactions").values())
    (line,) = [ln for ln in out.getvalue().splitlines() if ln.startswith("stg_interactions ")]
    assert line.split()[1] == str(total), line


@pytest.mark.slow
def test_days_after_the_staged_ones_carry_no_row_count(tmp_path: Path) -> None:
    """A range reaching past the staged days (a UI backfill's lookback fan-out does) records
    those days as not computed, without a count; the computed days carry their own count."""
    landing = tmp_path / "landing"
    generate(
        GeneratorConfig(out_dir=landing, start=DAYS[0], days=3, interactions_per_day=200, seed=3)
    )
    url = f"duckdb:///{tmp_path}/w.duckdb"
    resources = {
        "warehouse": WarehouseResource(url=url, schema_name="outcome"),
        "landing": LandingResource(root=str(landing), timezone="Europe/London"),
        "validation": ValidationResource(
            data_docs_dir=str(tmp_path / "docs"), max_quarantine_share=0.5
        ),
    }
    instance = dg.DagsterInstance.ephemeral()
    for selection, last in (([a.key for a in staging_assets], "2024-01-03"), (None, "2024-01-06")):
        result = dg.materialize(
            [*staging_assets, outcome_tables],
            selection=selection or list(outcome_tables.keys),
            tags={
                RANGE_START: "2024-01-01",
                RANGE_END: last,
            },
            resources=resources,
            instance=instance,
        )
        assert result.success
    want = _rows_per_day(url, "daily_outcomes")
    events = {
        e.partition: e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("daily_outcomes")
    }
    assert sorted(events) == ["2024-01-01", "2024-01-02", "2024-01-03", *SKIPPED]
    for day, meta in events.items():
        if day in SKIPPED:
            assert "dagster/row_count" not in meta, (day, meta)
            assert meta["computed"].value is False
        else:
            assert meta["dagster/row_count"].value == want[day] > 0
            assert meta["computed"].value is True


SKIPPED = ["2024-01-04", "2024-01-05", "2024-01-06"]


def test_the_demo_lands_the_days_ending_yesterday() -> None:
    assert demo_days(date(2026, 3, 15), 14, None) == (date(2026, 3, 1), date(2026, 3, 14))
    assert demo_days(date(2026, 3, 15), 3, date(2024, 1, 1)) == (
        date(2024, 1, 1),
        date(2024, 1, 3),
    )


def test_the_demo_env_file_keeps_other_lines(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OUTCOME_TIMEZONE=UTC\nOUTCOME_START_DATE=2020-01-01\n")
    write_demo_env({"OUTCOME_START_DATE": "2026-03-01"}, tmp_path)
    assert (tmp_path / ".env").read_text().splitlines() == [
        "OUTCOME_TIMEZONE=UTC",
        "OUTCOME_START_DATE=2026-03-01",
    ]


def test_dagster_cli_and_outcome_cli_read_the_same_env_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dagster 1.13's CLI (dagster dev, dagster-webserver) reads ./.env before it opens the
    instance; the outcome CLI reads the same file and, like it, lets the file win."""
    from outcome_pipeline_tests.dagster_internals import get_possibly_temporary_instance_for_cli

    home = project / "dagster_home"
    write_demo_env({"OUTCOME_START_DATE": "2026-03-01", "DAGSTER_HOME": str(home)}, project)
    monkeypatch.setenv("OUTCOME_START_DATE", "2024-01-01")
    with get_possibly_temporary_instance_for_cli("dagster dev") as instance:
        assert Path(instance.root_directory) == home
        assert os.environ["OUTCOME_START_DATE"] == "2026-03-01"
    assert os.environ["OUTCOME_START_DATE"] == "2024-01-01"  # Dagster restores it after
    load_env_file(project)
    assert os.environ["OUTCOME_START_DATE"] == "2026-03-01"
    out = io.StringIO()
    with open_instance(out) as instance:
        assert Path(instance.root_directory) == home
    assert out.getvalue() == f"run history: {home} (DAGSTER_HOME)\n"


def test_without_a_project_instance_the_cli_says_history_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    out = io.StringIO()
    with open_instance(out) as instance:
        assert instance.is_ephemeral
    assert "run history: not kept" in out.getvalue()
    assert "DAGSTER_HOME" in out.getvalue()
