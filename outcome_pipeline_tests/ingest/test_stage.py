"""Staging one day: dedupe, row accounting, late rows (landing-root safety: test_landing)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline_tests.ingest.test_readers import RECORDS, write_csv, write_jsonl

SURVEYS = CONTRACTS["survey_responses"]
DAY = date(2024, 3, 31)


def folder(root: Path) -> Path:
    path = root / "surveys" / DAY.isoformat()
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_latest_delivery_wins_and_every_row_is_accounted_for(tmp_path: Path) -> None:
    f = folder(tmp_path)
    newer = dict(RECORDS[0], score=2, updated_at="2024-03-31T09:00:00Z")
    bad = dict(RECORDS[1], response_id="r3", score="n/a")
    write_csv(f / "survey_responses.csv", [RECORDS[0], RECORDS[1], bad])
    write_jsonl(f / "survey_responses_redelivery.jsonl", [newer, RECORDS[1]])
    (f / "notes.txt").write_text("not a feed file")
    (f / "survey_responses_extra.csv.bak").write_text("ignored too")
    day = stage_day(tmp_path, SURVEYS, DAY, "Europe/London")
    assert day.rows_read == 5
    assert day.rows_staged == 2 and day.rows_duplicate == 2 and day.rows_quarantined == 1
    assert day.rows_read == day.rows_staged + day.rows_quarantined + day.rows_duplicate
    by_id = {r["response_id"]: r for r in day.staged.to_pylist()}
    assert by_id["r1"]["score"] == 2  # the later updated_at
    assert by_id["r1"]["source_file"] == "surveys/2024-03-31/survey_responses_redelivery.jsonl"
    assert day.quarantined["record_key"].to_pylist() == ["r3"]
    assert {r["partition_date"] for r in day.staged.to_pylist()} == {DAY}


def test_rows_of_another_business_day_are_counted_late(tmp_path: Path) -> None:
    f = folder(tmp_path)
    # 22:59Z on the 30th is still the 30th in London (late) but the 31st in Tokyo;
    # 16:00Z on the 31st is the 31st in London but already April 1st in Tokyo (late).
    late_london = dict(RECORDS[1], response_id="a", responded_at="2024-03-30T22:59:00Z")
    late_tokyo = dict(RECORDS[1], response_id="b", responded_at="2024-03-31T16:00:00Z")
    write_csv(f / "survey_responses.csv", [RECORDS[0], late_london, late_tokyo])
    assert stage_day(tmp_path, SURVEYS, DAY, "Europe/London").late_rows == 1
    assert stage_day(tmp_path, SURVEYS, DAY, "Asia/Tokyo").late_rows == 1
    assert stage_day(tmp_path, SURVEYS, DAY, "UTC").late_rows == 1


def test_a_missing_day_is_an_empty_partition(tmp_path: Path) -> None:
    day = stage_day(tmp_path, SURVEYS, DAY, "UTC")
    assert day.rows_read == day.rows_staged == 0 and day.files == []
    assert day.staged.schema.names[0] == "partition_date"


def test_rows_of_a_day_before_the_first_partition_are_counted(tmp_path: Path) -> None:
    """A row delivered on the first partition day whose event time is on the day before is
    staged (and late) but belongs to no computed day: load_audit counts it, so it does not
    vanish without a word."""
    from outcome_pipeline.ingest.stage_finish import audit_row

    f = folder(tmp_path)
    before = dict(RECORDS[1], response_id="b", responded_at="2024-03-30T22:59:00Z")
    write_csv(f / "survey_responses.csv", [RECORDS[0], before])
    day = stage_day(tmp_path, SURVEYS, DAY, "Europe/London", first_day=DAY)
    assert (day.rows_staged, day.late_rows, day.rows_before_start) == (2, 1, 1)
    assert audit_row(day)["rows_before_start"] == 1
    # Without a first partition nothing is counted before it.
    assert stage_day(tmp_path, SURVEYS, DAY, "Europe/London").rows_before_start == 0
