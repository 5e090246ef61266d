"""The nightly schedule as Dagster evaluates it: ticks -> run requests -> chained restatement."""

from __future__ import annotations

import warnings
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from outcome_pipeline.definitions import defs
from outcome_pipeline.defs.automation.jobs import (
    RANGE_END,
    RANGE_START,
    THEN_END,
    THEN_START,
    TRIGGER,
)
from outcome_pipeline.defs.automation.planning import DayRange
from outcome_pipeline.defs.automation.schedules import (
    NIGHTLY_CRON,
    START,
    TIMEZONE,
    nightly_outcomes_schedule,
    pending_final_days,
)
from outcome_pipeline.defs.automation.sensors import restate_after_load
from outcome_pipeline.defs.outcomes.assets import PENDING_FINAL_KEY
from outcome_pipeline.defs.resources import LandingResource
from outcome_pipeline.settings import Settings
from outcome_pipeline_tests.dagster_internals import cron_string_iterator


@pytest.fixture(scope="module")
def repo() -> dg.RepositoryDefinition:
    return defs().get_repository_def()


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def land_interactions(root: Path, first: date, last: date) -> Path:
    """A landing root whose interactions day folders first..last each hold a (header-only) file:
    what the schedule looks at to decide a day has landed."""
    for day in DayRange(first, last).days:
        folder = root / "interactions" / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "interactions.csv").write_text("interaction_id\n")
    return root


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every day of 2024 landed."""
    return land_interactions(
        tmp_path_factory.mktemp("landing"), date(2024, 1, 1), date(2024, 12, 31)
    )


@pytest.fixture(autouse=True)
def _default_landing(landed: Path) -> None:
    global LANDED
    LANDED = landed


LANDED: Path | None = None


def tick(
    repo: dg.RepositoryDefinition,
    when: datetime,
    instance: dg.DagsterInstance | None = None,
    landing: Path | None = None,
):
    """Evaluate the schedule's tick at ``when`` (on an empty instance unless one is given),
    with every day of 2024 landed unless another landing root is given."""
    if instance is None:
        with dg.instance_for_test() as empty:
            return tick(repo, when, empty, landing)
    root = landing or LANDED
    # Entered, so the resources close before the instance does (they enter the instance too,
    # and leaving it after the instance would restore its closed state storage globally).
    with dg.build_schedule_context(
        scheduled_execution_time=when,
        repository_def=repo,
        instance=instance,
        resources={"landing": LandingResource(root=str(root), timezone=TIMEZONE)},
    ) as context:
        return nightly_outcomes_schedule.evaluate_tick(context)


def record_outcomes(
    instance: dg.DagsterInstance, computed: tuple[str, str] | None, pending: dict[str, str]
) -> None:
    """Record what a run of the outcomes asset writes for each day it covered."""
    first, last = computed if computed else ("2024-03-01", "2024-03-01")
    for day in DayRange(date.fromisoformat(first), date.fromisoformat(last)).days:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key="daily_outcomes",
                partition=day.isoformat(),
                metadata={
                    PENDING_FINAL_KEY: dg.MetadataValue.json(
                        {"computed": list(computed) if computed else None, "pending": pending}
                    )
                },
            )
        )


def local(y: int, m: int, d: int, hh: int = 2, mm: int = 30) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(TIMEZONE))


def test_schedule_is_on_by_default_at_0230_business_time() -> None:
    assert nightly_outcomes_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert NIGHTLY_CRON == "30 2 * * *"  # no OUTCOME_NIGHTLY_* set in the test environment
    assert nightly_outcomes_schedule.execution_timezone == Settings.from_env().timezone
    assert nightly_outcomes_schedule.job_name == "nightly_outcomes"


def test_tick_requests_one_run_for_yesterday_tagged_with_the_day_to_restate(repo) -> None:
    data = tick(repo, local(2024, 3, 10))
    (request,) = data.run_requests
    assert request.partition_key == "2024-03-09"
    assert request.tags[THEN_START] == request.tags[THEN_END] == "2024-03-02"
    assert request.tags[TRIGGER] == "nightly"
    assert request.run_key == "nightly:2024-03-09:2024-03-09"
    # Evaluated again (daemon restart): the same run key, so Dagster launches it once.
    assert tick(repo, local(2024, 3, 10)).run_requests[0].run_key == request.run_key


def test_first_ticks_after_the_start_date(repo) -> None:
    assert date(2024, 1, 1) == START
    first = tick(repo, local(2024, 1, 1))
    assert first.run_requests == [] and "before the first partition" in first.skip_message
    second = tick(repo, local(2024, 1, 2)).run_requests[0]
    assert second.partition_key == "2024-01-01" and THEN_START not in second.tags
    ninth = tick(repo, local(2024, 1, 9)).run_requests[0]
    assert (ninth.partition_key, ninth.tags[THEN_START]) == ("2024-01-08", "2024-01-01")


@pytest.mark.parametrize(
    "first_tick",
    [local(2024, 3, 25), local(2024, 10, 20)],  # spring forward and fall back weeks
    ids=["spring_forward", "fall_back"],
)
def test_dst_weeks_every_day_loaded_once_and_restated_once(repo, first_tick) -> None:
    ticks = cron_string_iterator(first_tick.timestamp(), NIGHTLY_CRON, TIMEZONE)
    loads, restates = [], []
    for _ in range(14):
        when = next(ticks)
        assert when.astimezone(ZoneInfo(TIMEZONE)).strftime("%H:%M") == "02:30"
        (request,) = tick(repo, when).run_requests
        loads.append(date.fromisoformat(request.partition_key))
        restates.append(date.fromisoformat(request.tags[THEN_START]))
    first_load = first_tick.date() - timedelta(days=1)
    assert loads == [first_load + timedelta(days=i) for i in range(14)]
    assert restates == [d - timedelta(days=7) for d in loads]


def _success_context(repo, tags: dict[str, str]) -> dg.RunStatusSensorContext:
    run = dg.DagsterRun(
        job_name="nightly_outcomes", run_id="r-1", tags=tags, status=dg.DagsterRunStatus.SUCCESS
    )
    event = dg.DagsterEvent(
        event_type_value=dg.DagsterEventType.RUN_SUCCESS.value, job_name="nightly_outcomes"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.build_run_status_sensor_context(
            sensor_name="restate_after_load",
            dagster_event=event,
            dagster_instance=dg.DagsterInstance.ephemeral(),
            dagster_run=run,
            repository_def=repo,
        )


def test_successful_nightly_run_chains_the_restatement(repo) -> None:
    nightly = tick(repo, local(2024, 3, 10)).run_requests[0]
    follow = restate_after_load(_success_context(repo, nightly.tags))
    assert follow.job_name == "restate_outcomes"
    assert follow.partition_key == "2024-03-02"
    assert follow.tags["outcome/parent_run"] == "r-1"
    assert follow.run_key == "restate-after:r-1"
    nothing = restate_after_load(_success_context(repo, {TRIGGER: "nightly"}))
    assert isinstance(nothing, dg.SkipReason)


def test_restatement_job_recomputes_outcomes_and_bi_not_staging(repo) -> None:
    job = defs().resolve_job_def("restate_outcomes")
    keys = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    assert "daily_outcomes" in keys and "bi_views" in keys
    assert not any(k.startswith("stg_") for k in keys)


def test_a_day_kept_open_by_a_long_journey_is_restated_when_it_can_close(repo, instance) -> None:
    # 03-01 was restated on 03-09 (its W closed) but a repeat contact on 03-04 kept a journey
    # open until 03-11; 03-02 is final; 03-03 waits for 03-10 (its own W).
    record_outcomes(instance, ("2024-03-01", "2024-03-03"), {"2024-03-01": "2024-03-11"})
    record_outcomes(instance, ("2024-03-03", "2024-03-03"), {"2024-03-03": "2024-03-10"})
    assert pending_final_days(instance, date(2024, 2, 1), date(2024, 3, 9)) == {
        date(2024, 3, 1): date(2024, 3, 11),
        date(2024, 3, 3): date(2024, 3, 10),
    }
    on_11th = tick(repo, local(2024, 3, 11), instance).run_requests[0]  # loads 03-10
    assert (on_11th.tags[THEN_START], on_11th.tags[THEN_END]) == ("2024-03-03", "2024-03-03")
    on_12th = tick(repo, local(2024, 3, 12), instance).run_requests[0]  # loads 03-11
    # 03-04 by the W rule, and 03-01 because its last journey can have closed with 03-11.
    assert (on_12th.tags[THEN_START], on_12th.tags[THEN_END]) == ("2024-03-01", "2024-03-04")


def test_the_latest_run_that_computed_a_day_decides_and_skipped_days_do_not(repo, instance) -> None:
    record_outcomes(instance, ("2024-03-01", "2024-03-01"), {"2024-03-01": "2024-03-11"})
    record_outcomes(instance, None, {})  # a run that skipped 03-01 (not staged at the time)
    assert pending_final_days(instance, date(2024, 3, 1), date(2024, 3, 1)) == {
        date(2024, 3, 1): date(2024, 3, 11)
    }
    record_outcomes(instance, ("2024-03-01", "2024-03-01"), {})  # restated: now final
    assert pending_final_days(instance, date(2024, 3, 1), date(2024, 3, 1)) == {}
    on_12th = tick(repo, local(2024, 3, 12), instance).run_requests[0]
    assert (on_12th.tags[THEN_START], on_12th.tags[THEN_END]) == ("2024-03-04", "2024-03-04")


def test_a_tick_whose_day_has_not_landed_is_skipped_as_not_ready(repo, tmp_path) -> None:
    root = land_interactions(tmp_path, date(2024, 3, 1), date(2024, 3, 8))
    (root / "interactions" / "2024-03-09").mkdir()  # the folder is there, the files are not
    data = tick(repo, local(2024, 3, 10), landing=root)
    assert data.run_requests == []
    assert data.skip_message == (
        f"not ready: {root / 'interactions' / '2024-03-09'} has no files yet"
    )
    missing_root = tick(repo, local(2024, 3, 10), landing=tmp_path / "typo")
    assert missing_root.run_requests == [] and "not ready" in missing_root.skip_message


def staged_interactions(instance: dg.DagsterInstance, first: str, last: str) -> None:
    """Record what a run staging interactions for first..last leaves in the instance."""
    for day in DayRange(date.fromisoformat(first), date.fromisoformat(last)).days:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key="stg_interactions", partition=day.isoformat())
        )


def test_the_next_tick_loads_the_day_a_tick_skipped(repo, instance, tmp_path) -> None:
    staged_interactions(instance, "2024-03-01", "2024-03-08")
    root = land_interactions(tmp_path, date(2024, 3, 1), date(2024, 3, 8))
    assert tick(repo, local(2024, 3, 10), instance, root).run_requests == []
    land_interactions(root, date(2024, 3, 9), date(2024, 3, 10))  # 03-09 arrives late
    (request,) = tick(repo, local(2024, 3, 11), instance, root).run_requests
    assert request.run_key == "nightly:2024-03-09:2024-03-10"
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2024-03-09", "2024-03-10")
    assert (request.tags[THEN_START], request.tags[THEN_END]) == ("2024-03-02", "2024-03-03")
    # Loaded by then: the following tick is back to one day.
    staged_interactions(instance, "2024-03-09", "2024-03-10")
    land_interactions(root, date(2024, 3, 11), date(2024, 3, 11))
    (after,) = tick(repo, local(2024, 3, 12), instance, root).run_requests
    assert after.partition_key == "2024-03-11"
