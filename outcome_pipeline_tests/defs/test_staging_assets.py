"""Staging assets materialised through Dagster into real DuckDB and PostgreSQL."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from outcome_pipeline.defs.ingest.assets import _counts_only, staging_assets
from outcome_pipeline.defs.partitions import daily_partitions
from outcome_pipeline.defs.resources import (
    LandingResource,
    ValidationResource,
    WarehouseResource,
)
from outcome_pipeline.defs.tags import RANGE_END, RANGE_START
from outcome_pipeline.ingest.readiness import ALLOW_EMPTY_DAYS_TAG
from outcome_pipeline.ingest.stage_finish import StagedDay
from outcome_pipeline.warehouse import Warehouse
from outcome_pipeline_tests.ingest.test_readers import RECORDS, write_csv, write_jsonl

TABLES = ["stg_survey_responses", "quarantine_survey_responses", "quarantine_files", "load_audit"]


def land(root: Path, day: str, ids: list[str], bad: int = 0) -> None:
    folder = root / "surveys" / day
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        dict(
            RECORDS[i % 2],
            response_id=f"{day}-{r}",
            sent_at=f"{day}T11:00:00Z",
            responded_at=f"{day}T12:00:00Z",
            updated_at=f"{day}T12:00:00Z",
        )
        for i, r in enumerate(ids)
    ]
    rows += [dict(rows[0], response_id=f"{day}-bad{i}", score="x") for i in range(bad)]
    write_csv(folder / "survey_responses.csv", rows)
    write_jsonl(folder / "survey_responses_redelivery.jsonl", rows[:1])  # one duplicate


def materialize(
    root: Path, url: str, schema: str, max_share: float = 0.5, extra_assets=(), **kwargs
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*staging_assets, *extra_assets],
        selection=[dg.AssetKey("stg_survey_responses"), *(a.key for a in extra_assets)],
        resources={
            "warehouse": WarehouseResource(url=url, schema_name=schema),
            "landing": LandingResource(root=str(root), timezone="Europe/London"),
            "validation": ValidationResource(
                max_quarantine_share=max_share, data_docs_dir=str(root.parent / "docs")
            ),
        },
        instance=dg.DagsterInstance.ephemeral(),
        **kwargs,
    )


def snapshot(url: str, schema: str) -> dict[str, list[dict]]:
    """Every table's rows, without run_id (an audit column that differs between reruns)."""
    wh = Warehouse(url, schema)
    try:
        out = {}
        for t in TABLES:
            rows = wh.read_table(t).to_pylist()
            out[t] = [{k: v for k, v in r.items() if k != "run_id"} for r in rows]
        return out
    finally:
        wh.dispose()


def checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_partition_rerun_and_range_equal_day_by_day(tmp_path: Path, warehouse_url) -> None:
    url, schema = warehouse_url
    land(tmp_path, "2024-02-01", ["a", "b", "c"], bad=1)
    land(tmp_path, "2024-02-02", ["d"])
    # 2024-02-03 has no files (none of any feed: it has not landed): staged as an empty
    # partition only when the run asks for it.
    result = materialize(tmp_path, url, schema, partition_key="2024-02-01")
    assert result.success
    assert checks(result) == {
        "load_ok": True,
        "row_accounting": True,
        "drift_and_late_rows": True,
        "references_resolve": False,  # interaction i1 / case k9 were never staged
    }
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

    assert materialize(tmp_path, url, schema, partition_key="2024-02-02").success
    refused = materialize(tmp_path, url, schema, partition_key="2024-02-03", raise_on_error=False)
    assert not refused.success
    allow = {ALLOW_EMPTY_DAYS_TAG: "true"}
    assert materialize(tmp_path, url, schema, partition_key="2024-02-03", tags=allow).success
    day_by_day = snapshot(url, schema)
    tags = {RANGE_START: "2024-02-01", RANGE_END: "2024-02-03", **allow}
    assert materialize(tmp_path, url, schema, tags=tags).success
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

    def crash_on_second_day(self, conn, table, rows):  # day 1 is fully inserted by then
        calls["n"] += 1
        if calls["n"] == 5:
            raise ConnectionError("injected: connection lost mid-write")
        return original(self, conn, table, rows)

    monkeypatch.setattr(Warehouse, "insert_rows", crash_on_second_day)
    result = materialize(tmp_path, url, schema, tags=tags, raise_on_error=False)
    assert not result.success
    assert calls["n"] == 5
    assert snapshot(url, schema) == before


@dg.asset(
    partitions_def=daily_partitions,
    deps=["stg_survey_responses"],
    group_name="test",
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def downstream_of_surveys() -> None:
    """Stands in for the journeys: must not run when staging is blocked."""


def test_unreadable_file_is_quarantined_and_blocks_downstream(
    tmp_path: Path, warehouse_url
) -> None:
    url, schema = warehouse_url
    land(tmp_path, "2024-02-01", ["a", "b"])
    folder = tmp_path / "surveys" / "2024-02-01"
    (folder / "survey_responses_broken.parquet").write_bytes(b"garbage")
    result = materialize(
        tmp_path,
        url,
        schema,
        partition_key="2024-02-01",
        raise_on_error=False,
        extra_assets=[downstream_of_surveys],
    )
    assert not result.success
    assert checks(result)["load_ok"] is False
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"stg_survey_responses"}  # written, but downstream did not run
    snap = snapshot(url, schema)
    assert [r["source_file"] for r in snap["quarantine_files"]] == [
        "surveys/2024-02-01/survey_responses_broken.parquet"
    ]
    assert "survey_responses_broken.parquet" in snap["quarantine_files"][0]["error"]
    assert len(snap["stg_survey_responses"]) == 2  # the readable files were still staged


def test_quarantine_over_threshold_blocks_downstream(tmp_path: Path, warehouse_url) -> None:
    url, schema = warehouse_url
    land(tmp_path, "2024-02-01", [str(i) for i in range(18)], bad=2)  # 2 of 21 rows ≈ 9.5%
    blocked = materialize(
        tmp_path,
        url,
        schema,
        max_share=0.05,
        partition_key="2024-02-01",
        raise_on_error=False,
        extra_assets=[downstream_of_surveys],
    )
    assert not blocked.success and checks(blocked)["load_ok"] is False
    names = {e.asset_key.to_user_string() for e in blocked.get_asset_materialization_events()}
    assert "downstream_of_surveys" not in names
    evaluation = next(e for e in blocked.get_asset_check_evaluations() if e.check_name == "load_ok")
    assert evaluation.metadata["failed_rules"].value == {"bad_type": 2}
    passed = materialize(
        tmp_path,
        url,
        schema,
        max_share=0.10,
        partition_key="2024-02-01",
        extra_assets=[downstream_of_surveys],
    )
    assert passed.success
    names = {e.asset_key.to_user_string() for e in passed.get_asset_materialization_events()}
    assert "downstream_of_surveys" in names


def test_references_resolve_once_the_interaction_is_staged(tmp_path: Path, warehouse_url) -> None:
    url, schema = warehouse_url
    land(tmp_path, "2024-02-01", ["a"])  # one survey pointing at interaction i1
    folder = tmp_path / "interactions" / "2024-02-01"
    folder.mkdir(parents=True)
    write_jsonl(
        folder / "interactions.jsonl",
        [
            {
                "interaction_id": "i1",
                "channel": "chat",
                "direction": "inbound",
                "queued_at": "2024-02-01T09:00:00Z",
                "ended_at": "2024-02-01T09:10:00Z",
                "abandoned": False,
                "updated_at": "2024-02-01T09:10:00Z",
            }
        ],
    )
    before = materialize(tmp_path, url, schema, partition_key="2024-02-01")
    evaluation = next(
        e for e in before.get_asset_check_evaluations() if e.check_name == "references_resolve"
    )
    assert evaluation.metadata["dangling_references"].value == {"case_id": 0, "interaction_id": 1}
    after = dg.materialize(
        staging_assets,
        selection=[dg.AssetKey("stg_interactions"), dg.AssetKey("stg_survey_responses")],
        partition_key="2024-02-01",
        resources={
            "warehouse": WarehouseResource(url=url, schema_name=schema),
            "landing": LandingResource(root=str(tmp_path), timezone="Europe/London"),
            "validation": ValidationResource(data_docs_dir=str(tmp_path / "docs")),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert checks(after)["references_resolve"] is True


def test_a_range_keeps_only_counts_of_each_staged_day() -> None:
    """What a staging run keeps per day (for checks and metadata) holds none of the day's
    rows: a zero-length slice would still pin the whole day's buffers."""
    staged = pa.table({"interaction_id": [f"i-{n:08d}" for n in range(100_000)]})
    empty = staged.schema.empty_table()
    day = StagedDay(
        "interactions", date(2024, 3, 4), staged, empty, empty, [], 100_000, 0, 100_000, 0
    )
    kept = _counts_only(day)
    assert kept.staged.num_rows == 0
    assert kept.staged.schema == staged.schema
    assert kept.staged.get_total_buffer_size() < 1_000
    assert dataclasses.replace(kept, staged=staged) == day


def test_staged_days_are_not_replaced_with_nothing(tmp_path: Path, warehouse_url) -> None:
    url, schema = warehouse_url
    root = tmp_path / "landing"
    land(root, "2024-02-01", ["a", "b"])
    land(root, "2024-02-02", ["c"])
    tags = {RANGE_START: "2024-02-01", RANGE_END: "2024-02-02"}
    assert materialize(root, url, schema, tags=tags).success
    staged = snapshot(url, schema)

    # A typo in the landing root: refused at once (no retry), nothing deleted.
    typo = materialize(tmp_path / "landnig", url, schema, tags=tags, raise_on_error=False)
    assert not typo.success
    (failure,) = [e for e in typo.all_events if e.is_step_failure]
    message = failure.step_failure_data.user_failure_data.description
    assert "OUTCOME_LANDING_DIR" in message and str(tmp_path / "landnig") in message
    assert not [e for e in typo.all_events if e.is_step_up_for_retry]
    assert snapshot(url, schema) == staged

    # A staged day whose folder is gone: refused too, naming the folder.
    (root / "surveys" / "2024-02-02").rename(tmp_path / "moved")
    gone = materialize(root, url, schema, tags=tags, raise_on_error=False)
    assert not gone.success
    (failure,) = [e for e in gone.all_events if e.is_step_failure]
    assert str(root / "surveys" / "2024-02-02") in failure.step_failure_data.error.message
    assert snapshot(url, schema) == staged

    # Asked for explicitly: the day is emptied.
    allow = {**tags, ALLOW_EMPTY_DAYS_TAG: "true"}
    assert materialize(root, url, schema, tags=allow).success
    days = {r["partition_date"].isoformat() for r in snapshot(url, schema)["stg_survey_responses"]}
    assert days == {"2024-02-01"}


@pytest.mark.postgres
def test_staging_leaves_postgres_statistics_of_what_it_wrote(tmp_path: Path, pg_url: str) -> None:
    """The server here runs without autovacuum: only the pipeline's ANALYZE gives statistics."""
    import sqlalchemy as sa

    from outcome_pipeline_tests.conftest import _drop_schema

    schema = f"t_{uuid.uuid4().hex[:12]}"
    land(tmp_path, "2024-02-01", ["a", "b", "c"], bad=1)
    try:
        assert materialize(tmp_path, pg_url, schema, partition_key="2024-02-01").success
        engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            stats = dict(
                conn.execute(
                    sa.text(
                        "SELECT c.relname, c.reltuples FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = :s AND c.relkind = 'r'"
                    ),
                    {"s": schema},
                ).all()
            )
            analysed = {
                r[0]
                for r in conn.execute(
                    sa.text(
                        "SELECT relname FROM pg_stat_user_tables "
                        "WHERE schemaname = :s AND last_analyze IS NOT NULL"
                    ),
                    {"s": schema},
                )
            }
        engine.dispose()
        # reltuples is -1 until a table is first analysed (or vacuumed).
        assert stats["stg_survey_responses"] == 3
        assert stats["quarantine_survey_responses"] == 1
        assert stats["load_audit"] == 1
        assert {"stg_survey_responses", "quarantine_survey_responses", "load_audit"} <= analysed
    finally:
        _drop_schema(pg_url, schema)
