"""Which days a nightly tick and a late file target: the pure rules, by hand-checked cases."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from outcome_pipeline.defs.automation.planning import (
    DayRange,
    churn_due,
    group_days,
    late_plan,
    nightly_plan,
    not_ready,
    outcome_days_for_staged,
)
from outcome_pipeline.settings import nightly_cron

LONDON = "Europe/London"
START = date(2024, 1, 1)


def at(y: int, m: int, d: int, hh: int = 2, mm: int = 30, tz: str = LONDON) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(tz))


def plan(tick: datetime, previous: datetime | None = None, tz: str = LONDON, w: int = 7):
    if previous is None:
        previous = tick - timedelta(days=1)
    return nightly_plan(tick, previous, tz, START, w)


def test_a_tick_loads_yesterday_and_restates_the_day_whose_window_closed() -> None:
    p = plan(at(2024, 3, 10))
    assert p.load == DayRange(date(2024, 3, 9), date(2024, 3, 9))
    # W = 7: the window of 03-02 is 03-02..03-09, closed by yesterday's data: tick day - 8.
    assert p.restate == DayRange(date(2024, 3, 2), date(2024, 3, 2))


@pytest.mark.parametrize(
    ("tick", "load", "restate"),
    [
        (at(2024, 1, 1), None, None),  # yesterday is before the first partition
        (at(2024, 1, 2), date(2024, 1, 1), None),
        (at(2024, 1, 8), date(2024, 1, 7), None),  # 12-31 would close: before the start
        (at(2024, 1, 9), date(2024, 1, 8), date(2024, 1, 1)),  # the first restatement
    ],
)
def test_first_days_after_the_start_date(tick, load, restate) -> None:
    p = plan(tick)
    assert (p.load.first if p.load else None) == load
    assert (p.restate.first if p.restate else None) == restate
    if p.load is None:
        assert "before the first partition" in p.reason


@pytest.mark.parametrize(
    ("tick", "previous", "load"),
    [
        # London, spring forward (2024-03-31 01:00 -> 02:00): 02:30 BST exists.
        (at(2024, 3, 31), at(2024, 3, 30), date(2024, 3, 30)),
        (at(2024, 4, 1), at(2024, 3, 31), date(2024, 3, 31)),  # the 23-hour day
        # London, fall back (2024-10-27 02:00 -> 01:00): the 25-hour day.
        (at(2024, 10, 27), at(2024, 10, 26), date(2024, 10, 26)),
        (at(2024, 10, 28), at(2024, 10, 27), date(2024, 10, 27)),
    ],
)
def test_dst_nights_london(tick, previous, load) -> None:
    p = plan(tick, previous)
    assert p.load == DayRange(load, load)
    assert p.restate == DayRange(load - timedelta(days=7), load - timedelta(days=7))


def test_dst_night_new_york_where_0230_does_not_exist() -> None:
    # 2024-03-10 02:30 does not exist in New York: Dagster fires at 03:00 EDT.
    ny = "America/New_York"
    p = plan(at(2024, 3, 10, 3, 0, ny), at(2024, 3, 9, 2, 30, ny), tz=ny)
    assert p.load == DayRange(date(2024, 3, 9), date(2024, 3, 9))


def test_business_day_is_local_not_utc() -> None:
    # 00:30 BST on 07-10 is 23:30 UTC on 07-09: yesterday is 07-09 locally.
    tick = at(2024, 7, 10, 0, 30)
    assert tick.astimezone(ZoneInfo("UTC")).date() == date(2024, 7, 9)
    assert plan(tick).load == DayRange(date(2024, 7, 9), date(2024, 7, 9))


def test_second_tick_on_the_same_day_loads_nothing() -> None:
    p = plan(at(2024, 3, 10, 14, 30), previous=at(2024, 3, 10, 2, 30))
    assert p.load is None and p.restate is None
    assert "already due" in p.reason


def test_weekly_cron_loads_every_day_since_the_last_tick() -> None:
    p = plan(at(2024, 3, 11), previous=at(2024, 3, 4))
    assert p.load == DayRange(date(2024, 3, 4), date(2024, 3, 10))
    assert p.restate == DayRange(date(2024, 2, 26), date(2024, 3, 3))


def test_a_catch_up_longer_than_the_window_never_restates_what_it_loads() -> None:
    p = plan(at(2024, 3, 31), previous=at(2024, 3, 1))
    assert p.load == DayRange(date(2024, 3, 1), date(2024, 3, 30))
    assert p.restate == DayRange(date(2024, 2, 23), date(2024, 2, 29))


def test_ticks_over_a_year_load_and_restate_every_day_exactly_once() -> None:
    loaded: list[date] = []
    restated: list[date] = []
    tick = at(2024, 1, 1)
    for _ in range(400):
        nxt = (tick + timedelta(days=1)).replace(hour=2, minute=30)
        p = plan(nxt, tick)
        loaded += p.load.days if p.load else []
        restated += p.restate.days if p.restate else []
        tick = nxt
    assert loaded == [START + timedelta(days=i) for i in range(len(loaded))]
    assert restated == [START + timedelta(days=i) for i in range(len(restated))]
    assert len(loaded) - len(restated) == 7


def test_nightly_cron_from_env() -> None:
    assert nightly_cron({}) == "30 2 * * *"
    assert nightly_cron({"OUTCOME_NIGHTLY_HOUR": "4", "OUTCOME_NIGHTLY_MINUTE": "5"}) == "5 4 * * *"
    assert nightly_cron({"OUTCOME_NIGHTLY_CRON": " 0  3 * * 1-5 "}) == "0 3 * * 1-5"
    for bad in ({"OUTCOME_NIGHTLY_CRON": "every night"}, {"OUTCOME_NIGHTLY_HOUR": "24"}):
        with pytest.raises(ValueError):
            nightly_cron(bad)


def test_late_file_restates_the_days_around_it_that_were_computed() -> None:
    day = DayRange(date(2024, 3, 10), date(2024, 3, 10))
    # D - W - 1 .. D + W + 2, cut at the last computed day.
    assert outcome_days_for_staged(day, 7, START, date(2024, 3, 31)) == DayRange(
        date(2024, 3, 2), date(2024, 3, 19)
    )
    assert outcome_days_for_staged(day, 7, START, date(2024, 3, 12)) == DayRange(
        date(2024, 3, 2), date(2024, 3, 12)
    )
    assert outcome_days_for_staged(day, 7, START, None) is None  # nothing computed yet
    early = DayRange(date(2024, 1, 3), date(2024, 1, 3))
    assert outcome_days_for_staged(early, 7, START, date(2024, 1, 5)).first == START


def test_late_plan_merges_days_and_tables() -> None:
    p = late_plan(
        [
            ("interactions", date(2024, 3, 9)),
            ("cases", date(2024, 3, 10)),
            ("cases", date(2024, 3, 10)),
        ],
        7,
        START,
        date(2024, 3, 12),
    )
    assert p.staging == DayRange(date(2024, 3, 9), date(2024, 3, 10))
    assert p.tables == ("cases", "interactions")
    assert p.outcomes == DayRange(date(2024, 3, 1), date(2024, 3, 12))
    assert late_plan([], 7, START, None) is None


def test_pending_days_are_restated_once_due_in_one_range() -> None:
    tick = at(2024, 3, 20)  # loads 03-19, restates 03-12 by the W rule
    pending = {
        date(2024, 3, 5): date(2024, 3, 19),  # due tonight
        date(2024, 3, 8): date(2024, 3, 16),  # overdue (a restatement failed): still due
        date(2024, 3, 9): date(2024, 3, 22),  # not yet
    }
    p = nightly_plan(tick, tick - timedelta(days=1), LONDON, START, 7, pending)
    assert p.restate == DayRange(date(2024, 3, 5), date(2024, 3, 12))
    before_start = {date(2023, 12, 30): date(2024, 3, 19)}
    assert nightly_plan(tick, None, LONDON, START, 7, before_start).restate == DayRange(
        date(2024, 3, 12), date(2024, 3, 12)
    )


def test_a_later_tick_catches_up_days_an_earlier_tick_left_unloaded() -> None:
    tick, previous = at(2024, 3, 11), at(2024, 3, 10)
    # The 03-10 tick skipped 03-09 (not ready): 03-08 is the last loaded day.
    p = nightly_plan(
        tick, previous, LONDON, START, 7, last_loaded=date(2024, 3, 8), catch_up_days=7
    )
    assert p.load == DayRange(date(2024, 3, 9), date(2024, 3, 10))
    assert p.restate == DayRange(date(2024, 3, 2), date(2024, 3, 3))
    # Loaded as planned (or not asked for): one day, as always.
    for loaded in (date(2024, 3, 9), None):
        p = nightly_plan(tick, previous, LONDON, START, 7, last_loaded=loaded, catch_up_days=7)
        assert p.load == DayRange(date(2024, 3, 10), date(2024, 3, 10))
    # A gap older than the catch-up horizon is left to a manual backfill.
    old = nightly_plan(
        tick, previous, LONDON, START, 7, last_loaded=date(2024, 3, 1), catch_up_days=7
    )
    assert old.load == DayRange(date(2024, 3, 10), date(2024, 3, 10))


def test_not_ready_names_the_first_day_folder_without_files() -> None:
    landed = {date(2024, 3, 9)}
    load = DayRange(date(2024, 3, 9), date(2024, 3, 10))
    folder = lambda d: f"/landing/interactions/{d}"  # noqa: E731
    assert not_ready(load, landed.__contains__, folder) == (
        "not ready: /landing/interactions/2024-03-10 has no files yet"
    )
    landed.add(date(2024, 3, 10))
    assert not_ready(load, landed.__contains__, folder) is None


def test_group_days_merges_near_days_within_the_longest_range() -> None:
    d = lambda n: date(2024, 3, 1) + timedelta(days=n)  # noqa: E731
    assert group_days([], 7, 39) == ()
    assert group_days([d(5), d(0), d(2), d(2)], 7, 39) == (DayRange(d(0), d(5)),)
    # A gap of more than 7 days starts a new run: recomputing 8 idle days costs more.
    assert group_days([d(0), d(8), d(20)], 7, 39) == (
        DayRange(d(0), d(0)),
        DayRange(d(8), d(8)),
        DayRange(d(20), d(20)),
    )
    # Consecutive days never make a range longer than the bound.
    ranges = group_days([d(n) for n in range(100)], 7, 39)
    assert [len(r.days) for r in ranges] == [39, 39, 22]
    with pytest.raises(ValueError, match="max_days"):
        group_days([d(0)], 7, 0)


def test_days_whose_churn_windows_closed_are_restated_in_their_own_ranges() -> None:
    # Loads 06-30. 05-01 and 05-03 close their 30-day window by 06-30 (one range, the gap is
    # 1 day); 03-02 its 90-day window; 05-10 not before 07-01; 06-20 is in the night's other
    # restatement anyway; 06-30 is the load itself.
    pending = {
        date(2024, 5, 1): [date(2024, 6, 29), date(2024, 8, 29)],
        date(2024, 5, 3): [date(2024, 6, 30), date(2024, 8, 31)],
        date(2024, 3, 2): [date(2024, 6, 30)],
        date(2024, 5, 10): [date(2024, 7, 1), date(2024, 9, 1)],
        date(2024, 6, 20): [date(2024, 6, 30)],
    }
    load = DayRange(date(2024, 6, 30), date(2024, 6, 30))
    covered = DayRange(date(2024, 6, 20), date(2024, 6, 23))
    assert churn_due(pending, load, START, covered, 7, 39) == (
        DayRange(date(2024, 3, 2), date(2024, 3, 2)),
        DayRange(date(2024, 5, 1), date(2024, 5, 3)),
    )
    p = nightly_plan(
        at(2024, 7, 1),
        at(2024, 6, 30),
        LONDON,
        START,
        7,
        pending={date(2024, 6, 20): date(2024, 6, 30)},
        churn_pending=pending,
    )
    assert p.restate == DayRange(date(2024, 6, 20), date(2024, 6, 23))
    assert p.churn == (
        DayRange(date(2024, 3, 2), date(2024, 3, 2)),
        DayRange(date(2024, 5, 1), date(2024, 5, 3)),
    )
    # Before the start date: dropped, like every other restatement.
    assert churn_due(pending, load, date(2024, 4, 1), None, 7, 39)[0].first == date(2024, 5, 1)
    assert nightly_plan(at(2024, 7, 1), at(2024, 6, 30), LONDON, START, 7).churn == ()
