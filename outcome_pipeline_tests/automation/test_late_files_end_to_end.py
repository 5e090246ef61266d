"""A late file, end to end: sensor -> restage run -> chained restatement -> BI copy.

Runs the real jobs on generated feeds and a DuckDB warehouse, with the sensors evaluated
against the same Dagster instance the runs write to.
"""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from outcome_pipeline.defs.automation.jobs import RANGE_END, RANGE_START, THEN_END, THEN_START
from outcome_pipeline.defs.automation.sensors import late_landing_files, restate_after_load
from outcome_pipeline.defs.resources import LandingResource
from outcome_pipeline_tests.automation.pipeline import (
    TZ,
    Pipeline,
    add_late_interactions,
    generate_days,
)

pytestmark = pytest.mark.slow
LATE_DAY = date(2024, 1, 2)


def sense(p: Pipeline, cursor: str | None):
    context = dg.build_sensor_context(
        instance=p.instance,
        cursor=cursor,
        resources={"landing": LandingResource(root=str(p.landing), timezone=TZ)},
    )
    return late_landing_files(context)


def chain(p: Pipeline, result: dg.ExecuteInProcessResult) -> dg.RunRequest:
    """What restate_after_load requests after ``result``'s run succeeded."""
    run = p.instance.get_run_by_id(result.run_id)
    event = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        context = dg.build_run_status_sensor_context(
            sensor_name="restate_after_load",
            dagster_event=event,
            dagster_instance=p.instance,
            dagster_run=run,
        )
    return restate_after_load(context)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    root = tmp_path_factory.mktemp("late")
    generate_days(root / "landing", date(2024, 1, 1), 4)
    p = Pipeline(
        landing=root / "landing",
        url=f"duckdb:///{root}/warehouse.duckdb",
        schema="outcome",
        bi_copy=root / "warehouse_bi.duckdb",
        instance=dg.DagsterInstance.ephemeral(),
    )
    result = p.run("nightly_outcomes", tags={RANGE_START: "2024-01-01", RANGE_END: "2024-01-04"})
    assert result.success
    return p


def test_late_file_restages_its_day_and_restates_outcomes_once(loaded: Pipeline) -> None:
    p = loaded
    baseline = sense(p, None)
    assert baseline.run_requests == []  # every file arrived before the load began
    staged_before = p.counts_by_day("stg_interactions")
    contacts_before = p.counts_by_day("journey_contacts")

    late_ids = add_late_interactions(p.landing, LATE_DAY, 12, "interactions_resent.jsonl")
    found = sense(p, baseline.cursor)
    (request,) = found.run_requests
    assert request.partition_key == LATE_DAY.isoformat()
    assert [k.to_user_string() for k in request.asset_selection] == ["stg_interactions"]
    # D - 8 .. D + 9, cut to the computed days 01-01..01-04.
    assert (request.tags[THEN_START], request.tags[THEN_END]) == ("2024-01-01", "2024-01-04")

    restage = p.run("restage_late_files", request)
    assert restage.success
    follow = chain(p, restage)
    assert follow.job_name == "restate_outcomes"
    assert (follow.tags[RANGE_START], follow.tags[RANGE_END]) == ("2024-01-01", "2024-01-04")
    assert p.run("restate_outcomes", follow).success

    staged = p.counts_by_day("stg_interactions")
    assert staged[LATE_DAY] == staged_before[LATE_DAY] + len(late_ids)
    assert {d: n for d, n in staged.items() if d != LATE_DAY} == {
        d: n for d, n in staged_before.items() if d != LATE_DAY
    }
    wh = p.warehouse()
    try:
        in_journeys = wh.query(
            f"SELECT count(*) AS n FROM {wh.qualified('journey_contacts')} "
            "WHERE contact_id LIKE 'ix-late-%'"
        ).to_pylist()[0]["n"]
    finally:
        wh.dispose()
    assert in_journeys == len(late_ids)  # the outcomes know the late contacts
    assert sum(p.counts_by_day("journey_contacts").values()) == (
        sum(contacts_before.values()) + len(late_ids)
    )
    # BI sees the same outcomes, through the published copy.
    assert p.counts_by_day("journey_contacts", source=str(p.bi_copy)) == p.counts_by_day(
        "journey_contacts"
    )

    # The same files again: nothing to do.
    assert sense(p, found.cursor).run_requests == []
    # The same late file delivered again (same bytes, new mtime): not late, no restage.
    late_file = p.landing / "interactions" / LATE_DAY.isoformat() / "interactions_resent.jsonl"
    late_file.write_bytes(late_file.read_bytes())
    assert sense(p, found.cursor).run_requests == []
    # And restaging the day again never double counts: staging replaces the day.
    assert p.run("restage_late_files", request).success
    assert p.counts_by_day("stg_interactions") == staged


def test_bi_copy_is_a_separate_file_that_opens_read_only(loaded: Pipeline) -> None:
    import duckdb

    from outcome_pipeline.serving.publish import BI_TABLES

    assert loaded.bi_copy.exists() and (loaded.bi_copy.stat().st_mode & 0o222) == 0
    con = duckdb.connect(str(loaded.bi_copy), read_only=True)
    try:
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        days = con.execute("SELECT count(*) FROM outcome.bi_daily_summary").fetchall()[0][0]
        texts = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE data_type = 'VARCHAR' AND NOT internal"
        ).fetchall()
        values = set()
        for table, column in texts:
            values |= {
                v
                for (v,) in con.execute(
                    f'SELECT DISTINCT "{column}" FROM outcome."{table}" '
                    f'WHERE "{column}" IS NOT NULL'
                ).fetchall()
            }
    finally:
        con.close()
    assert {"bi_daily_outcomes", "bi_daily_summary", "bi_agent_output_vs_outcome"} <= views
    # Only what BI is for: no staging or quarantine table (raw emails and phones live there).
    assert tables == {t.name for t in BI_TABLES}
    assert days == 4
    assert Path(f"{loaded.bi_copy}.wal").exists() is False
    # No customer's raw identifier reaches the BI file, in any text column.
    wh = loaded.warehouse()
    try:
        raw = wh.query(
            f"SELECT DISTINCT customer_email AS v FROM {wh.qualified('stg_interactions')} "
            f"UNION SELECT DISTINCT customer_phone FROM {wh.qualified('stg_interactions')}"
        ).column("v")
    finally:
        wh.dispose()
    # Real identifiers only: the generator also sends placeholders like 'unknown'.
    raw = {v for v in raw.to_pylist() if v and ("@" in v or sum(ch.isdigit() for ch in v) >= 7)}
    assert len(raw) > 100
    assert values.isdisjoint(raw)
    assert not any("@" in v for v in values)
