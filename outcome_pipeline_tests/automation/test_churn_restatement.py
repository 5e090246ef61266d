"""Churn restatement: 120 simulated nights of the nightly tick's plan over a Dagster instance.

Every night, ``plan_for_tick`` reads what earlier runs recorded in the instance (the
``pending_final_on`` and ``churn_final_on`` metadata of ``daily_outcomes``), and the test
"runs" the plan: each run over a range at the night's as_of records that metadata the way the
outcomes asset does (``maturity.final_on_days`` / ``churn_final_on`` over the journeys it would
see), and the flags the SQL would write, by the SQL's rule restated here on instants. A small
world of contacts stands in for the warehouse: short journeys, journeys that repeat for up to
~H days (the 90-day window then closes ~115 days after the day: the schedule's lookback must
reach it), and days without any contact. 2024-03-31 (spring forward) lies inside.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pyarrow as pa
import pytest

from outcome_pipeline.defs.automation.jobs import RESTATE_CHURN, THEN_CHURN, THEN_START
from outcome_pipeline.defs.automation.planning import DayRange
from outcome_pipeline.defs.automation.schedules import (
    CHURN_LOOKBACK_DAYS,
    MAX_RANGE_DAYS,
    START,
    TIMEZONE,
    pending_churn_days,
    plan_for_tick,
)
from outcome_pipeline.defs.outcomes.assets import (
    CHURN_FINAL_KEY,
    METRIC_CONFIG,
    PENDING_FINAL_KEY,
)
from outcome_pipeline.outcomes.maturity import churn_final_on, churn_pending, final_on_days

TZ = ZoneInfo(TIMEZONE)
CFG = METRIC_CONFIG
W, H = CFG.repeat_window_days, CFG.max_journey_days
NIGHTS = 120


def day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), TZ).astimezone(UTC)


def contacts_of(day: date) -> list[datetime]:
    """Contact starts of the one journey started on ``day`` (UTC); none on some days."""
    n = (day - START).days
    if n % 11 == 3:
        return []
    first = datetime.combine(day, time(10, 0), TZ)
    if n % 9 == 0:  # a heavy customer: a repeat every 6 days, for H - 6 days (then capped)
        return [(first + timedelta(days=k)).astimezone(UTC) for k in range(0, H - 5, 6)]
    if n % 4 == 1:  # one repeat within W
        return [first.astimezone(UTC), (first + timedelta(days=5, hours=3)).astimezone(UTC)]
    return [first.astimezone(UTC)]


def journeys_seen(days: list[date], as_of: datetime) -> pa.Table:
    """What the outcomes asset writes to ``journeys`` at as_of: contacts up to as_of."""
    rows = []
    for day in days:
        seen = [c for c in contacts_of(day) if c <= as_of]
        if seen:
            rows.append((day, seen[-1] + timedelta(minutes=30), seen[-1] + timedelta(days=W)))
    ts = pa.timestamp("us", "UTC")
    return pa.table(
        {
            "partition_date": pa.array([r[0] for r in rows], pa.date32()),
            "last_contact_ended_at": pa.array([r[1] for r in rows], ts),
            "window_closes_at": pa.array([r[2] for r in rows], ts),
        }
    )


def flags_by_sql_rule(day: date, as_of: datetime) -> tuple[bool, bool, bool]:
    """(is_final, is_churn_30d_final, is_churn_90d_final) as ``int_day_status.sql`` and the
    daily marts compute them."""
    seen = [c for c in contacts_of(day) if c <= as_of]
    closes = seen[-1] + timedelta(days=W) if seen else None
    last_end = seen[-1] + timedelta(minutes=30) if seen else day_end(day)
    final = as_of >= day_end(day) + timedelta(days=W) and (closes is None or closes <= as_of)
    return (
        final,
        final and as_of >= last_end + timedelta(days=CFG.churn_short_days),
        final and as_of >= last_end + timedelta(days=CFG.churn_long_days),
    )


def first_day_with(day: date, index: int) -> date:
    """Independently of maturity.py: the first business day whose end makes flag ``index``
    true (every contact of the day visible by then)."""
    f = day
    while not flags_by_sql_rule(day, day_end(f))[index]:
        f += timedelta(days=1)
    return f


def record_run(instance: dg.DagsterInstance, days: DayRange, as_of_day: date) -> None:
    """What a run of the outcomes asset over ``days`` records (one event per day)."""
    as_of = day_end(as_of_day)
    journeys = journeys_seen(days.days, as_of)
    pending = final_on_days(days.days, journeys, as_of_day, W, TIMEZONE)
    churn = churn_pending(churn_final_on(days.days, journeys, CFG), as_of_day)
    computed = list(days.keys)
    metadata = {
        PENDING_FINAL_KEY: dg.MetadataValue.json(
            {
                "computed": computed,
                "pending": {d.isoformat(): f.isoformat() for d, f in pending.items()},
            }
        ),
        CHURN_FINAL_KEY: dg.MetadataValue.json(
            {
                "computed": computed,
                "pending": {d.isoformat(): [f.isoformat() for f in fs] for d, fs in churn.items()},
            }
        ),
    }
    for day in days.days:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key="daily_outcomes", partition=day.isoformat(), metadata=metadata
            )
        )


@pytest.fixture(scope="module")
def nights():
    """Run 120 nights from the start date; return what each day saw."""
    flags: dict[date, list[tuple[date, str, tuple[bool, bool, bool]]]] = {}
    ranges: list[tuple[str, DayRange]] = []
    # An ephemeral instance: the same SQL event log storage as a SQLite instance's, in memory
    # (no file to commit and fsync for each of the ~320 recorded runs' events).
    with dg.DagsterInstance.ephemeral() as instance:
        for n in range(NIGHTS):
            tonight = START + timedelta(days=n)
            scheduled = datetime.combine(tonight + timedelta(days=1), time(2, 30), TZ)
            plan = plan_for_tick(scheduled, instance)
            assert plan.load == DayRange(tonight, tonight)
            runs = [("load", plan.load)]
            runs += [("restate", plan.restate)] if plan.restate else []
            runs += [("churn", r) for r in plan.churn]
            for kind, days in runs:
                record_run(instance, days, tonight)
                ranges.append((kind, days))
                for day in days.days:
                    flags.setdefault(day, []).append(
                        (tonight, kind, flags_by_sql_rule(day, day_end(tonight)))
                    )
        lookback = pending_churn_days(instance, START, START + timedelta(days=NIGHTS))
    return flags, ranges, lookback


@pytest.mark.slow
def test_each_day_is_restated_on_the_night_its_churn_windows_close(nights) -> None:
    flags, _, _ = nights
    last = START + timedelta(days=NIGHTS - 1)
    checked = {0: 0, 1: 0}
    long_journey_90d = 0
    for day, seen in flags.items():
        for index in (0, 1):
            due = first_day_with(day, index + 1)
            if due > last:
                continue
            # Computed on that very night, the flag true then and false at every run before.
            on_due = [s for s in seen if s[0] == due]
            assert on_due and all(s[2][index + 1] for s in on_due), (day, index, due, seen)
            assert not any(s[2][index + 1] for s in seen if s[0] < due), (day, index, seen)
            checked[index] += 1
            if index == 1 and len(contacts_of(day)) > 2:
                long_journey_90d += 1
    # 120 nights: the 30-day window closes for ~3 months of days, the 90-day one for ~1.
    assert checked[0] > 60 and checked[1] > 20
    assert long_journey_90d > 0  # a journey repeating for H: its window closed ~H + 90 later
    # Every day is final by day + 1 + H + W (METRICS "Journey horizon").
    for day, seen in flags.items():
        if day + timedelta(days=1 + H + W) <= last:
            final_at = min(s[0] for s in seen if s[2][0])
            assert final_at <= day + timedelta(days=1 + H + W), (day, final_at)


@pytest.mark.slow
def test_churn_restatements_are_few_short_ranges(nights) -> None:
    _, ranges, _ = nights
    churn = [r for kind, r in ranges if kind == "churn"]
    assert churn and max(len(r.days) for r in churn) <= MAX_RANGE_DAYS
    assert max(len(r.days) for kind, r in ranges if kind == "restate") <= H + W + 2
    # Grouped: fewer churn runs than days restated for churn.
    assert len(churn) < sum(len(r.days) for r in churn)


def test_metadata_lookback_reaches_the_longest_windows() -> None:
    # A day whose last journey ran H days closes its 90-day window H + 90 days later; it must
    # be within the days a tick reads (after a week of missed nights too).
    assert CFG.churn_long_days + H + W + 1 + 7 <= CHURN_LOOKBACK_DAYS
    # Such a day becomes final on day + H + W (+ 1 when the last contact's window ends after
    # midnight): the tick must still read its pending_final_on then, whatever
    # OUTCOME_RESTATE_HORIZON_DAYS says (35 by default, less than H + W + 1 = 38).
    day = date(2024, 2, 1)
    contact = datetime.combine(day + timedelta(days=H), time(20, 0), TZ).astimezone(UTC)
    ts = pa.timestamp("us", "UTC")
    journeys = pa.table(
        {
            "partition_date": pa.array([day], pa.date32()),
            "last_contact_ended_at": pa.array([contact], ts),
            "window_closes_at": pa.array([contact + timedelta(days=W)], ts),
        }
    )
    final_on = final_on_days([day], journeys, day + timedelta(days=H), W, TIMEZONE)[day]
    assert final_on == day + timedelta(days=H + W)
    pending = {"computed": [day.isoformat()] * 2, "pending": {day.isoformat(): str(final_on)}}
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key="daily_outcomes",
                partition=day.isoformat(),
                metadata={PENDING_FINAL_KEY: dg.MetadataValue.json(pending)},
            )
        )
        scheduled = datetime.combine(final_on + timedelta(days=1), time(2, 30), TZ)
        plan = plan_for_tick(scheduled, instance)
    assert plan.restate is not None and plan.restate.first == day


def test_the_tick_tags_churn_ranges_and_the_sensor_launches_one_run_each(tmp_path) -> None:
    from outcome_pipeline.definitions import defs
    from outcome_pipeline_tests.automation.test_schedules import (
        _success_context,
        land_interactions,
        tick,
    )

    repo = defs().get_repository_def()
    root = land_interactions(tmp_path, date(2024, 4, 2), date(2024, 4, 2))
    with dg.instance_for_test() as instance:
        # 03-01 and 03-03 close their 30-day windows by 04-02 (03-02 only on 04-06).
        record_run(instance, DayRange(date(2024, 3, 1), date(2024, 3, 3)), date(2024, 3, 20))
        when = datetime(2024, 4, 3, 2, 30, tzinfo=TZ)
        request = tick(repo, when, instance, root).run_requests[0]
    assert request.tags[THEN_CHURN] == "2024-03-01..2024-03-03"
    assert request.tags[THEN_START] == "2024-03-26"
    follow = restate_after_load_result(_success_context(repo, request.tags))
    assert [r.tags.get(RESTATE_CHURN) for r in follow] == [None, "2024-03-01..2024-03-03"]
    assert {r.job_name for r in follow} == {"restate_outcomes"}
    assert follow[1].tags["dagster/asset_partition_range_start"] == "2024-03-01"


def restate_after_load_result(context) -> list[dg.RunRequest]:
    from outcome_pipeline.defs.automation.sensors import restate_after_load

    result = restate_after_load(context)
    return list(result.run_requests) if isinstance(result, dg.SensorResult) else [result]
