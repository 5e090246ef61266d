"""One configuration: every metric-changing number settable from the environment, recorded
with a hash, and really used by the computation (the fixture week's figures move with it)."""

from __future__ import annotations

from datetime import date

import pytest

from outcome_pipeline.metric_settings import metric_settings, settings_hash
from outcome_pipeline.outcomes import OutcomeConfig, compute_outcomes
from outcome_pipeline.outcomes.config import ENV_NAMES
from outcome_pipeline.validation.config import ValidationConfig
from outcome_pipeline_tests.outcomes import fixture as fx
from outcome_pipeline_tests.outcomes.test_hand_computed import AS_OF, day_sum, one


def test_every_outcome_setting_is_read_from_the_environment() -> None:
    env = {
        "OUTCOME_REPEAT_WINDOW_DAYS": "5",
        "OUTCOME_MAX_JOURNEY_DAYS": "20",
        "OUTCOME_SERVICE_LEVEL_SECONDS": "30",
        "OUTCOME_SHORT_ABANDON_SECONDS": "10",
        "OUTCOME_CHURN_SHORT_DAYS": "14",
        "OUTCOME_CHURN_LONG_DAYS": "60",
        "OUTCOME_CSAT_SATISFIED_MIN": "5",
        "OUTCOME_NPS_PROMOTER_MIN": "10",
        "OUTCOME_NPS_DETRACTOR_MAX": "5",
        "OUTCOME_CES_EASY_MIN": "6",
        "OUTCOME_LOOKBACK_MARGIN_DAYS": "3",
        "OUTCOME_UNASSIGNED_LABEL": "(none)",
        "OUTCOME_SURVEY_GRACE_DAYS": "2",
        "OUTCOME_TIMEZONE": "UTC",
        "OUTCOME_SERVICE_LEVEL_VARIANT": "answered_excl_short_abandons",
        "OUTCOME_DEFAULT_COUNTRY_CODE": "1",
    }
    assert set(env) == set(ENV_NAMES.values())
    cfg = OutcomeConfig.from_env(env)
    assert (cfg.repeat_window_days, cfg.max_journey_days, cfg.service_level_seconds) == (5, 20, 30)
    assert (cfg.churn_short_days, cfg.churn_long_days, cfg.nps_promoter_min) == (14, 60, 10)
    assert (cfg.unassigned_label, cfg.timezone, cfg.lookback_margin_days) == ("(none)", "UTC", 3)
    assert OutcomeConfig.from_env(env, timezone="Europe/London").timezone == "Europe/London"
    assert OutcomeConfig.from_env({}) == OutcomeConfig()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"OUTCOME_MAX_JOURNEY_DAYS": "thirty"}, "OUTCOME_MAX_JOURNEY_DAYS"),
        ({"OUTCOME_MAX_JOURNEY_DAYS": "3"}, "OUTCOME_MAX_JOURNEY_DAYS"),  # below W
        ({"OUTCOME_NPS_DETRACTOR_MAX": "9"}, "OUTCOME_NPS_DETRACTOR_MAX"),  # >= promoter min
        ({"OUTCOME_SERVICE_LEVEL_VARIANT": "answered_of_all"}, "OUTCOME_SERVICE_LEVEL_VARIANT"),
    ],
)
def test_a_bad_setting_is_refused_by_name(env: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        OutcomeConfig.from_env(env)


def test_the_record_holds_every_value_and_its_hash_names_it() -> None:
    values = metric_settings(OutcomeConfig(), ValidationConfig())
    assert "pseudonym_key" not in values
    assert values["max_journey_days"] == 30 and values["plausible_from"] == "2000-01-01"
    assert set(values) >= set(ENV_NAMES) | {"clock_skew_seconds", "follow_up_days"}
    same = settings_hash(metric_settings(OutcomeConfig(), ValidationConfig()))
    assert settings_hash(values) == same and len(same) == 16
    other = metric_settings(OutcomeConfig(max_journey_days=31), ValidationConfig())
    assert settings_hash(other) != same
    skew = metric_settings(OutcomeConfig(), ValidationConfig(plausible_from=date(1990, 1, 1)))
    assert settings_hash(skew) != same


def test_churn_windows_and_survey_thresholds_change_the_figures() -> None:
    """Bob churned 9.4 days after his journey ended: within 30 days, not within 5. S8 (NPS 9)
    is a promoter at >= 9, not at >= 10; S3 (CES 6) is easy at >= 5, not at >= 7; S1 (CSAT 5)
    stays satisfied at >= 5, S4 (CSAT 2) never is."""
    cfg = OutcomeConfig(
        churn_short_days=5, nps_promoter_min=10, ces_easy_min=7, csat_satisfied_min=5
    )
    out = compute_outcomes(fx.inputs(), fx.DAYS, AS_OF, cfg)
    b = one(out["journeys"], journey_id="ix-b1")
    assert (b["is_churned_within_30d"], b["is_churned_within_90d"]) == (False, True)
    d = out["daily_outcomes"]
    assert (day_sum(d, fx.D2, "nps_promoters"), day_sum(d, fx.D2, "ces_easy")) == (0, 0)
    assert day_sum(d, fx.D1, "csat_satisfied") == 1
    assert day_sum(d, fx.D1, "churned_30d") == 0 and day_sum(d, fx.D1, "churned_90d") == 1


def test_the_unassigned_label_is_configurable() -> None:
    out = compute_outcomes(
        fx.inputs(), fx.D4_DAYS, fx.lt("08-01 00:00"), OutcomeConfig(unassigned_label="(none)")
    )
    agents = {r["agent_id"] for r in out["daily_agent_output_vs_outcome"].to_pylist()}
    assert "(none)" in agents and "unassigned" not in agents
    teams = {r["team"] for r in out["daily_outputs"].to_pylist()}
    assert "(none)" in teams and "unassigned" not in teams
