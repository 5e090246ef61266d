"""Which stored days a settings change leaves stale: pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

from outcome_pipeline.metric_settings import metric_settings, settings_hash
from outcome_pipeline.outcomes import OutcomeConfig
from outcome_pipeline.outcomes.audit import (
    OUTCOME_AUDIT,
    audit_rows,
    day_ranges,
    drift_message,
    settings_drift,
)
from outcome_pipeline.validation.config import ValidationConfig

OLD = metric_settings(OutcomeConfig(), ValidationConfig())
NEW = metric_settings(OutcomeConfig(service_level_seconds=30), ValidationConfig())
AS_OF = datetime(2024, 1, 9, tzinfo=UTC)


def stored(days: list[date], settings: dict) -> list[tuple]:
    rows = audit_rows(days, AS_OF, settings).to_pylist()
    return [(r["partition_date"], r["settings_hash"], r["metric_settings"]) for r in rows]


def test_audit_rows_record_the_settings_and_their_hash_per_day() -> None:
    rows = audit_rows([date(2024, 1, 1), date(2024, 1, 2)], AS_OF, OLD)
    assert rows.schema == OUTCOME_AUDIT.arrow_schema
    assert rows.column("settings_hash").to_pylist() == [settings_hash(OLD)] * 2
    assert rows.column("as_of").to_pylist()[0] == AS_OF


def test_days_under_other_settings_are_named_with_what_differs() -> None:
    days = [date(2024, 1, d) for d in (1, 2, 3, 5)]
    history = stored(days, OLD) + stored([date(2024, 1, 6)], NEW)
    assert settings_drift(history, OLD) == [settings_drift(stored([date(2024, 1, 6)], NEW), OLD)[0]]
    (drift,) = settings_drift(history, NEW)
    assert drift.days == tuple(days)
    assert drift.ranges == ["2024-01-01..2024-01-03", "2024-01-05"]
    assert drift.differences == {"service_level_seconds": (20, 30)}
    assert drift_message([drift]) == (
        "restate 2024-01-01..2024-01-03, 2024-01-05 (4 days): service_level_seconds 20 -> 30"
    )
    assert settings_drift(stored(days, NEW), NEW) == []


def test_days_without_recorded_settings_are_named_too() -> None:
    history = [(date(2024, 1, 1), None, None), *stored([date(2024, 1, 2)], NEW)]
    (drift,) = settings_drift(history, NEW)
    assert drift.stored_hash is None and drift.days == (date(2024, 1, 1),)
    assert "not recorded" in drift_message([drift])


def test_a_setting_added_since_is_a_difference() -> None:
    older = {k: v for k, v in NEW.items() if k != "ces_easy_min"}
    (drift,) = settings_drift(stored([date(2024, 1, 1)], older), NEW)
    assert drift.differences == {"ces_easy_min": ("(not recorded)", 5)}


def test_day_ranges() -> None:
    assert day_ranges([]) == []
    assert day_ranges([date(2024, 1, 3), date(2024, 1, 1), date(2024, 1, 2)]) == [
        "2024-01-01..2024-01-03"
    ]
