"""The command line's step lines: rows per table, never a sum over tables of other grains."""

from __future__ import annotations

from outcome_pipeline.cli.run import step_status


def test_a_one_table_step_shows_its_rows() -> None:
    assert step_status({"stg_cases": {"dagster/row_count": 41182}}, 1.7) == (
        "ok        41182 rows     1.7s"
    )


def test_a_step_of_several_tables_lists_each_table_not_their_sum() -> None:
    metas = {
        "journeys": {"dagster/row_count": 4148},
        "daily_outcomes": {"dagster/row_count": 90210},
        "customer_outcomes": {"dagster/row_count": 3021},
    }
    lines = step_status(metas, 9.8).splitlines()
    assert lines[0].split() == ["ok", "3", "tables", "9.8s"]
    assert [line.split() for line in lines[1:]] == [
        ["customer_outcomes", "3021", "rows"],
        ["daily_outcomes", "90210", "rows"],
        ["journeys", "4148", "rows"],
    ]
    assert str(4148 + 90210 + 3021) not in step_status(metas, 9.8)


def test_a_step_that_publishes_says_what_it_published_not_zero_rows() -> None:
    bi = {"bi_views": {"path": "data/warehouse_bi.duckdb", "bytes": 12_345_678, "rebuilt": 0}}
    status = step_status(bi, 2.5)
    assert status == "ok   published data/warehouse_bi.duckdb (12.3 MB)  2.5s"
    assert "0 rows" not in status
    pg = step_status({"bi_views": {"schema": "outcome", "views_replaced": []}}, 0.4)
    assert pg == "ok   views refreshed in schema outcome  0.4s"
