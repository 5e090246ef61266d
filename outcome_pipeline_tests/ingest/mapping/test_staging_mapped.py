"""A mapped source staged through the Dagster staging asset, on DuckDB and PostgreSQL.

Two sources fill stg_interactions on the same day (a bank call log and Amazon Connect); both
stage, every source row is accounted for in load_audit, rejects land in quarantine with the
file, line and raw record, and the asset's metadata names the mappings and files it read.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from outcome_pipeline.defs.ingest.assets import staging_assets
from outcome_pipeline.defs.resources import LandingResource, ValidationResource, WarehouseResource
from outcome_pipeline.ingest.mapping import SHIPPED_DIR
from outcome_pipeline.warehouse import Warehouse
from outcome_pipeline_tests.ingest.mapping.fixtures import ctr, write_bank_log, write_firehose

DAY = date(2024, 1, 2)


def land(root: Path) -> None:
    write_bank_log(root / "bank_call_log" / DAY.isoformat(), "240102")
    day = DAY.isoformat()
    records = [ctr("c1", day), ctr("c2", day, Agent=None), ctr("c3", day, Channel="TASK")]
    # c1 delivered twice (at least once): the later LastUpdateTimestamp wins.
    records.append(
        ctr(
            "c1",
            day,
            LastUpdateTimestamp=f"{day}T11:00:00Z",
            Queue={"Name": "sales", "EnqueueTimestamp": f"{day}T10:00:10Z"},
        )
    )
    write_firehose(root / "amazon_connect" / day, records, "ctr-1")


def materialize(root: Path, url: str, schema: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        staging_assets,
        selection=[dg.AssetKey("stg_interactions")],
        partition_key=DAY.isoformat(),
        resources={
            "warehouse": WarehouseResource(url=url, schema_name=schema),
            "landing": LandingResource(
                root=str(root), timezone="Europe/London", sources_dir=str(SHIPPED_DIR)
            ),
            "validation": ValidationResource(
                max_quarantine_share=0.9, data_docs_dir=str(root.parent / "docs")
            ),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )


@pytest.mark.slow
def test_mapped_sources_stage_through_the_asset(tmp_path: Path, warehouse_url) -> None:
    url, schema = warehouse_url
    root = tmp_path / "landing"
    land(root)
    result = materialize(root, url, schema)
    assert result.success
    wh = Warehouse(url, schema)
    try:
        staged = {r["interaction_id"]: r for r in wh.read_table("stg_interactions").to_pylist()}
        quarantined = wh.read_table("quarantine_interactions").to_pylist()
        (audit,) = [
            a for a in wh.read_table("load_audit").to_pylist() if a["feed"] == "interactions"
        ]
    finally:
        wh.dispose()
    assert {"c1", "c2", "AA0101-44749", "AA0102-44751", "AA0104-44749"} <= set(staged)
    assert staged["c1"]["queue"] == "sales"  # the later delivery
    assert staged["c1"]["source_mapping"] == "amazon_connect_ctr@1"
    assert staged["AA0101-44749"]["source_mapping"] == "bank_call_log@1"
    assert staged["c1"]["source_file"] == "amazon_connect/2024-01-02/ctr-1"
    assert staged["AA0101-44749"]["source_line"] == 2
    reasons = {
        (q["source_file"].split("/")[0], q["source_line"]): q["reason_code"] for q in quarantined
    }
    assert reasons[("bank_call_log", 6)] == "unknown_value"
    assert reasons[("bank_call_log", 8)] == "malformed_row"
    assert reasons[("amazon_connect", 3)] == "unknown_value"
    # 8 bank rows + 4 Connect records = staged + quarantined + the one older delivery of c1.
    assert audit["rows_read"] == 12 and audit["rows_duplicate"] == 1
    assert audit["rows_read"] == audit["rows_staged"] + audit["rows_quarantined"] + 1
    assert audit["rows_staged"] == len(staged) and audit["rows_quarantined"] == len(quarantined)
    metadata = result.asset_materializations_for_node("stg_interactions")[0].metadata
    sources = metadata["sources"].value
    assert set(sources["mappings"]) >= {"bank_call_log@1", "amazon_connect_ctr@1"}
    assert sources["files"]["amazon_connect/2024-01-02/ctr-1"] == "json via amazon_connect_ctr@1"
    assert all(
        e.passed for e in result.get_asset_check_evaluations() if e.check_name == "accounting"
    )
