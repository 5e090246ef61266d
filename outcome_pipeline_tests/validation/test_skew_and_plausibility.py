"""Clock skew within the tolerance is repaired and staged; beyond it the row is quarantined.
A day before the plausibility floor is quarantined by both engines alike, and a row-level
expectation that fails without flagging a row fails the day (it never passes silently)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.ingest.stage_finish import audit_row
from outcome_pipeline.validation import rules as R
from outcome_pipeline.validation import validate as validate_module
from outcome_pipeline.validation import validate_day
from outcome_pipeline.validation.collector import DayValidations
from outcome_pipeline.validation.config import ValidationConfig
from outcome_pipeline.validation.repair import repair_clock_skew
from outcome_pipeline_tests.ingest.test_readers import RECORDS, write_csv
from outcome_pipeline_tests.validation.fixtures import DAY, TZ, clean, rows_table

INTERACTIONS = CONTRACTS["interactions"]
QUEUED = datetime(2024, 3, 31, 10, 0, tzinfo=UTC)


def _leg(key: str, answered_after: float, ended_after: float) -> dict:
    return clean(
        "interactions",
        key,
        queued_at=QUEUED,
        answered_at=QUEUED + timedelta(seconds=answered_after),
        ended_at=QUEUED + timedelta(seconds=ended_after),
    )


def test_skews_within_the_tolerance_are_put_in_order() -> None:
    rows = rows_table(
        INTERACTIONS,
        [
            _leg("ok", 10, 300),
            _leg("skew-2s", -2, 300),  # the agent platform's clock 2 s behind the queue's
            _leg("skew-10min", -600, 300),  # 10 minutes: beyond 120 s, left as it is
            _leg("ended-1s", 10, 9),  # ended 1 s before answered
            _leg("both", -2, -1),  # answered 2 s early, ended 1 s early
            clean(
                "interactions",
                "abandoned",
                queued_at=QUEUED,
                answered_at=None,
                ended_at=QUEUED + timedelta(seconds=30),
                abandoned=True,
            ),
        ],
    )
    fixed, n = repair_clock_skew(rows, "interactions", 120)
    assert n == 3
    by = {r["interaction_id"]: r for r in fixed.to_pylist()}
    assert by["skew-2s"]["answered_at"] == QUEUED
    assert by["skew-2s"]["ended_at"] == QUEUED + timedelta(seconds=300)
    assert by["skew-10min"]["answered_at"] == QUEUED - timedelta(seconds=600)
    assert by["ended-1s"]["ended_at"] == by["ended-1s"]["answered_at"]
    assert by["both"]["answered_at"] == by["both"]["ended_at"] == QUEUED
    assert by["ok"] == rows.to_pylist()[0] and by["abandoned"]["answered_at"] is None
    assert fixed.schema == rows.schema
    # No tolerance: nothing repaired.
    assert repair_clock_skew(rows, "interactions", 0) == (rows, 0)
    # Validation then quarantines only the 10-minute skew.
    v = validate_day(fixed, INTERACTIONS, DAY, TZ, engine="precheck")
    failed = {fixed["interaction_id"][i].as_py() for i in v.row_failures}
    assert failed == {"skew-10min"}


def test_staging_repairs_a_2s_skew_and_quarantines_a_10min_one(tmp_path: Path) -> None:
    """Surveys: responded_at before sent_at. 2 s: staged with responded_at = sent_at and
    counted in load_audit.rows_repaired; 10 min: quarantined as an impossible timestamp."""
    folder = tmp_path / "surveys" / DAY.isoformat()
    folder.mkdir(parents=True)
    sent = "2024-03-31T09:00:00+00:00"
    write_csv(
        folder / "survey_responses.csv",
        [
            RECORDS[0],
            dict(RECORDS[0], response_id="s2", sent_at=sent, responded_at="2024-03-31T08:59:58Z"),
            dict(RECORDS[0], response_id="s3", sent_at=sent, responded_at="2024-03-31T08:50:00Z"),
        ],
    )
    contract = CONTRACTS["survey_responses"]
    day = stage_day(
        tmp_path,
        contract,
        DAY,
        TZ,
        validator=DayValidations(TZ, "precheck"),
        clock_skew_seconds=120,
    )
    assert (day.rows_staged, day.rows_quarantined, day.rows_repaired) == (2, 1, 1)
    assert audit_row(day)["rows_repaired"] == 1
    staged = {r["response_id"]: r for r in day.staged.to_pylist()}
    assert staged["s2"]["responded_at"] == datetime(2024, 3, 31, 9, 0, tzinfo=UTC)
    assert day.quarantined["record_key"].to_pylist() == ["s3"]
    assert "impossible_timestamp" in day.quarantined["reason_code"].to_pylist()[0]
    # Without a tolerance both skews are quarantined, as before.
    strict = stage_day(tmp_path, contract, DAY, TZ, validator=DayValidations(TZ, "precheck"))
    assert (strict.rows_staged, strict.rows_quarantined, strict.rows_repaired) == (1, 2, 0)


def _in_1999() -> tuple[date, list[dict]]:
    shift = datetime(2024, 3, 31, tzinfo=UTC) - datetime(1999, 6, 1, tzinfo=UTC)
    records = []
    for i in range(3):
        row = clean("interactions", f"i{i}")
        records.append({k: v - shift if isinstance(v, datetime) else v for k, v in row.items()})
    return date(1999, 6, 1), records


@pytest.mark.usefixtures("gx_imported")
def test_a_day_in_1999_is_quarantined_by_both_engines_unless_the_floor_allows_it() -> None:
    """Before the floor (2000-01-01) every row is implausible. The rule's upper bound (the
    day + 1 or + 30 days) is then below the floor; GX failed such an expectation with no
    row flagged and the day passed with nothing quarantined. Now both engines flag every
    row. With OUTCOME_PLAUSIBLE_FROM=1990-01-01 the day is clean."""
    day, records = _in_1999()
    rows = rows_table(INTERACTIONS, records)
    runs = {
        engine: validate_day(rows, INTERACTIONS, day, TZ, engine=engine)
        for engine in ("gx", "precheck", "auto")
    }
    for engine, v in runs.items():
        assert v.rows_failed == 3, engine
        assert v.unexplained == [] and v.disagreements == [], engine
        codes = {f.code for fails in v.row_failures.values() for f in fails}
        assert codes == {"impossible_timestamp"}, engine
    cfg = ValidationConfig(plausible_from=date(1990, 1, 1))
    for engine in ("gx", "precheck", "auto"):
        v = validate_day(rows, INTERACTIONS, day, TZ, engine=engine, cfg=cfg)
        assert (v.rows_failed, v.success) == (0, True), engine


@pytest.mark.usefixtures("gx_imported")
def test_a_row_rule_failing_with_no_row_flagged_fails_the_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rule GX cannot evaluate (here: the old ill-formed bound, min above max) fails
    without unexpected rows. The day must fail, and the blocking check must say why."""
    day, records = _in_1999()
    rows = rows_table(INTERACTIONS, records)
    original = R.rules_for

    def ill_formed(*args, **kwargs):
        return [
            replace(r, max_value=datetime(1999, 6, 3, tzinfo=UTC))
            if r.name == "queued_at_plausible"
            else r
            for r in original(*args, **kwargs)
        ]

    monkeypatch.setattr(validate_module.R, "rules_for", ill_formed)
    v = validate_day(rows, INTERACTIONS, day, TZ, engine="gx")
    assert v.success is False
    assert len(v.unexplained) == 1 and v.unexplained[0].startswith("queued_at_plausible")
    collector = DayValidations(TZ, "gx")
    collector(rows, INTERACTIONS, day)
    assert any("queued_at_plausible" in m for m in collector.failed_dataset_expectations())


def test_validation_settings_from_the_environment() -> None:
    cfg = ValidationConfig.from_env(
        {
            "OUTCOME_CLOCK_SKEW_SECONDS": "5",
            "OUTCOME_PLAUSIBLE_FROM": "1995-01-01",
            "OUTCOME_FOLLOW_UP_DAYS": "60",
        }
    )
    assert cfg == ValidationConfig(5, date(1995, 1, 1), 60)
    assert ValidationConfig.from_env({}) == ValidationConfig()
    with pytest.raises(ValueError, match="OUTCOME_PLAUSIBLE_FROM"):
        ValidationConfig.from_env({"OUTCOME_PLAUSIBLE_FROM": "last year"})
    with pytest.raises(ValueError, match="clock_skew_seconds"):
        ValidationConfig.from_env({"OUTCOME_CLOCK_SKEW_SECONDS": "-1"})


def test_rules_not_evaluated_are_not_reported_as_unexplained() -> None:
    """A day missing a column fails on the columns expectation; its row rules on that column
    are not evaluated, which is not an unexplained failure."""
    rows = rows_table(INTERACTIONS, [clean("interactions", "a")]).drop_columns(["answered_at"])
    v = validate_day(rows, INTERACTIONS, DAY, TZ, engine="precheck")
    assert v.success is False and v.unexplained == []
    assert any(e.name == "columns_match_contract" and not e.success for e in v.expectations)
