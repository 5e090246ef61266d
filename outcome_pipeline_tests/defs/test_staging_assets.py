"""Staging assets materialised through Dagster into real DuckDB and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from outcome_pipeline.defs.ingest.assets import staging_assets
from outcome_pipeline.defs.resources import LandingResource, WarehouseResource
from outcome_pipeline.warehouse import Warehouse
from outcome_pipeline_tests.ingest.test_readers import RECORDS, write_csv, write_jsonl

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
TABLES = ["stg_survey_responses", "quarantine_survey_responses", "load_audit"]


def land(root: Path, day: str, ids: list[str], bad: int = 0) -> None:
    folder = root / "surveys" / day
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        dict(RECORDS[i % 2], response_id=f"{day}-{r}", responded_at=f"{day}T12:00:00Z")
        for i, r in enumerate(ids)
    ]
    rows += [dict(RECORDS[0], response_id=f"{day}-bad{i}", score="x") for i in range(bad)]
    write_csv(folder / "survey_responses.csv", rows)
    write_jsonl(folder / "survey_responses_redelivery.jsonl", rows[:1])  # one duplicate


def materialize(root: Path, url: str, schema: str, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        staging_assets,
        selection="stg_survey_responses",
        resources={
            "warehouse": WarehouseResource(url=url, schema_name=schema),
            "landing": LandingResource(root=str(root), timezone="Europe/London"),
        },
        instance=dg.DagsterInstance.ephemeral(),
        **kwargs,
    )


def snapshot(url: str, schema: str) -> dict[str, list[dict]]:
    wh = Warehouse(url, schema)
    try:
        return {t: wh.read_table(t).to_pylist() for t in TABLES}
    finally:
        wh.dispose()


def test_partition_rerun_and_range_equal_day_by_day(tmp_path: Path, warehouse_url) -> None:
    url, schema = warehouse_url
    land(tmp_path, "2024-02-01", ["a", "b", "c"], bad=1)
    land(tmp_path, "2024-02-02", ["d"])
    # 2024-02-03 has no files: an empty partition, not a crash.
    assert materialize(tmp_path, url, schema, partition_key="2024-02-01").success
    wh = Warehouse(url, schema)
    assert wh.count("stg_survey_responses") == 3
    assert wh.count("quarantine_survey_responses") == 1
    audit = wh.read_table("load_audit").to_pylist()
    assert [
        (a["rows_read"], a["rows_staged"], a["rows_duplicate"], a["rows_quarantined"])
        for a in audit
    ] == [(5, 3, 1, 1)]
    wh.dispose()
    first = snapshot(url, schema)
    assert materialize(tmp_path, url, schema, partition_key="2024-02-01").success
    assert snapshot(url, schema) == first

    for day in ("2024-02-02", "2024-02-03"):
        assert materialize(tmp_path, url, schema, partition_key=day).success
    day_by_day = snapshot(url, schema)
    result = materialize(
        tmp_path, url, schema, tags={RANGE_START: "2024-02-01", RANGE_END: "2024-02-03"}
    )
    assert result.success
    assert snapshot(url, schema) == day_by_day
    assert len(day_by_day["load_audit"]) == 3


def test_a_crash_during_the_write_leaves_the_previous_partition(
    tmp_path: Path, warehouse_url, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, schema = warehouse_url
    land(tmp_path, "2024-02-01", ["a", "b"])
    land(tmp_path, "2024-02-02", ["c"])
    tags = {RANGE_START: "2024-02-01", RANGE_END: "2024-02-02"}
    assert materialize(tmp_path, url, schema, tags=tags).success
    before = snapshot(url, schema)
    land(tmp_path, "2024-02-01", ["x", "y", "z"])  # new data that must not half-land
    land(tmp_path, "2024-02-02", ["w"])
    calls = {"n": 0}
    original = Warehouse.insert_rows

    def crash_on_second_day(self, conn, table, rows):  # after day 1 was fully inserted
        calls["n"] += 1
        if calls["n"] == 4:
            raise ConnectionError("injected: connection lost mid-write")
        return original(self, conn, table, rows)

    monkeypatch.setattr(Warehouse, "insert_rows", crash_on_second_day)
    result = materialize(tmp_path, url, schema, tags=tags, raise_on_error=False)
    assert not result.success
    assert calls["n"] == 4
    assert snapshot(url, schema) == before


def test_an_unreadable_file_fails_with_its_name(tmp_path: Path, warehouse_url) -> None:
    url, schema = warehouse_url
    folder = tmp_path / "surveys" / "2024-02-01"
    folder.mkdir(parents=True)
    (folder / "survey_responses.parquet").write_bytes(b"garbage")
    result = materialize(tmp_path, url, schema, partition_key="2024-02-01", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "survey_responses.parquet" in failure.step_failure_data.error.message
    assert "2024-02-01" in failure.step_failure_data.error.message
