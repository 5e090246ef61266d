"""``rows_not_counted``: superseded deliveries and rows before the first partition are listed
by file and line with why, and land in the warehouse on both dialects."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.warehouse import Warehouse
from outcome_pipeline.warehouse.tables import ROWS_NOT_COUNTED
from outcome_pipeline_tests.ingest.test_readers import RECORDS, write_csv, write_jsonl
from outcome_pipeline_tests.ingest.test_stage import DAY, SURVEYS, folder


def test_superseded_and_early_rows_are_listed_with_why(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    f = folder(tmp_path)
    newer = dict(RECORDS[0], score=2, updated_at="2024-03-31T09:00:00Z")
    early = dict(RECORDS[1], response_id="b", responded_at="2024-03-30T22:59:00Z")
    write_csv(f / "survey_responses.csv", [RECORDS[0], early])
    write_jsonl(f / "survey_responses_redelivery.jsonl", [newer])
    day = stage_day(tmp_path, SURVEYS, DAY, "Europe/London", first_day=DAY)
    listed = [
        (r["source_file"], r["source_line"], r["record_key"], r["business_day"], r["reason"])
        for r in day.not_counted.to_pylist()
    ]
    csv_file = "surveys/2024-03-31/survey_responses.csv"
    assert listed == [
        (csv_file, 2, RECORDS[0]["response_id"], date(2024, 3, 31), "superseded_delivery"),
        (csv_file, 3, "b", date(2024, 3, 30), "before_start"),
    ]
    assert day.rows_duplicate == 1 and day.rows_before_start == 1
    assert {r["partition_date"] for r in day.not_counted.to_pylist()} == {DAY}
    # Without a first partition only the superseded delivery is listed.
    plain = stage_day(tmp_path, SURVEYS, DAY, "Europe/London")
    assert plain.not_counted["reason"].to_pylist() == ["superseded_delivery"]

    warehouse.create_tables([ROWS_NOT_COUNTED])
    with warehouse.begin() as conn:
        warehouse.insert_rows(conn, ROWS_NOT_COUNTED, day.not_counted)
    assert warehouse.read_table(ROWS_NOT_COUNTED).to_pylist() == day.not_counted.to_pylist()
