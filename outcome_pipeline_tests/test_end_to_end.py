"""End to end: generated feeds → Dagster staging assets → DuckDB and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.defs.ingest.assets import staging_assets
from outcome_pipeline.defs.resources import (
    LandingResource,
    ValidationResource,
    WarehouseResource,
)
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.warehouse import Warehouse

pytestmark = pytest.mark.slow
DAY = "2024-01-02"


@pytest.fixture(scope="module")
def clean_landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("landing")
    generate(
        GeneratorConfig(
            out_dir=root, start=date(2024, 1, 1), days=2, interactions_per_day=1500, seed=11
        )
    )
    return root, json.loads((root / "_manifest.json").read_text())


def run_day(root: Path, url: str, schema: str, day: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        staging_assets,
        partition_key=day,
        resources={
            "warehouse": WarehouseResource(url=url, schema_name=schema),
            "landing": LandingResource(root=str(root), timezone="Europe/London"),
            "validation": ValidationResource(data_docs_dir=str(root.parent / "docs")),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )


def test_staging_counts_equal_generated_rows_minus_duplicates(clean_landing, warehouse_url):
    root, manifest = clean_landing
    url, schema = warehouse_url
    result = run_day(root, url, schema, DAY)
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert all(e.passed for e in evaluations if e.severity == dg.AssetCheckSeverity.ERROR)
    late = {
        e.asset_key.to_user_string(): e.metadata["late_rows"].value
        for e in evaluations
        if e.check_name == "drift_and_late_rows"
    }
    assert late["stg_interactions"] == manifest["tables"]["interactions"][DAY]["late_rows"] > 0
    wh = Warehouse(url, schema)
    try:
        for name, contract in CONTRACTS.items():
            written = manifest["tables"][name].get(DAY, {"rows_written": 0, "duplicates": 0})
            expected = written["rows_written"] - written["duplicates"]
            assert wh.count(contract.staging_table) == expected, name
            assert wh.count(f"quarantine_{name}") == 0, name
        assert wh.count("stg_interactions") > 1000
        # Timestamps are UTC and typed; keys are unique per partition.
        dup = wh.query(
            f"SELECT count(*) - count(DISTINCT interaction_id) AS d "
            f"FROM {wh.qualified('stg_interactions')}"
        ).to_pylist()[0]["d"]
        assert dup == 0
    finally:
        wh.dispose()
