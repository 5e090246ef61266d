"""The business calendar across DST changes: spring-forward (23 h) and fall-back (25 h) days in
Europe/London and America/New_York, against UTC instants written out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from outcome_pipeline import calendar as cal

H = timedelta(hours=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# (timezone, day, its start and end in UTC, hours)
DAYS = [
    ("Europe/London", date(2024, 3, 30), utc(2024, 3, 30, 0), utc(2024, 3, 31, 0), 24),
    # Clocks go 01:00 GMT -> 02:00 BST.
    ("Europe/London", date(2024, 3, 31), utc(2024, 3, 31, 0), utc(2024, 3, 31, 23), 23),
    # Clocks go 02:00 BST -> 01:00 GMT: the day starts at BST midnight, ends at GMT midnight.
    ("Europe/London", date(2024, 10, 27), utc(2024, 10, 26, 23), utc(2024, 10, 28, 0), 25),
    ("America/New_York", date(2024, 3, 9), utc(2024, 3, 9, 5), utc(2024, 3, 10, 5), 24),
    # 02:00 EST -> 03:00 EDT.
    ("America/New_York", date(2024, 3, 10), utc(2024, 3, 10, 5), utc(2024, 3, 11, 4), 23),
    # 02:00 EDT -> 01:00 EST.
    ("America/New_York", date(2024, 11, 3), utc(2024, 11, 3, 4), utc(2024, 11, 4, 5), 25),
]


@pytest.mark.parametrize(("tz", "day", "start", "end", "hours"), DAYS)
def test_day_bounds_and_length(
    tz: str, day: date, start: datetime, end: datetime, hours: int
) -> None:
    assert cal.day_bounds(day, tz) == (start, end)
    assert cal.day_length(day, tz) == hours * H
    assert cal.day_bounds_us(day, tz) == (cal.epoch_us(start), cal.epoch_us(end))
    # Local midnights, timezone-aware in the business timezone.
    assert cal.day_start(day, tz).astimezone(UTC) == start
    assert (cal.day_start(day, tz).hour, cal.day_start(day, tz).date()) == (0, day)
    assert cal.day_end(day, tz) == cal.day_start(day + timedelta(days=1), tz)
    assert cal.day_end(day, tz).astimezone(UTC) == end


@pytest.mark.parametrize(("tz", "day", "start", "end", "hours"), DAYS)
def test_the_day_holding_an_instant(
    tz: str, day: date, start: datetime, end: datetime, hours: int
) -> None:
    assert cal.business_day(start, tz) == day
    assert cal.business_day(end - timedelta(microseconds=1), tz) == day
    assert cal.business_day(end, tz) == day + timedelta(days=1)
    assert cal.business_day(start - timedelta(microseconds=1), tz) == day - timedelta(days=1)
    # Every hour of the day, the repeated one of a fall-back night included, is on it.
    assert {cal.business_day(start + i * H, tz) for i in range(hours)} == {day}
    # An instant at a midnight ends the day before; any later one is reached by the day itself.
    assert cal.day_reached_by(end, tz) == day
    assert cal.day_reached_by(end + timedelta(microseconds=1), tz) == day + timedelta(days=1)
    assert cal.day_reached_by(start + timedelta(microseconds=1), tz) == day


def test_the_repeated_hour_of_a_fall_back_night_is_on_one_day() -> None:
    # 01:30 BST and 01:30 GMT on 27 October 2024: two instants an hour apart, one local date.
    first, second = utc(2024, 10, 27, 0, 30), utc(2024, 10, 27, 1, 30)
    assert cal.business_day(first, "Europe/London") == date(2024, 10, 27)
    assert cal.business_day(second, "Europe/London") == date(2024, 10, 27)
    # 23:59 EST on 9 March is still the 9th in New York, 04:59 UTC on the 10th.
    assert cal.business_day(utc(2024, 3, 10, 4, 59), "America/New_York") == date(2024, 3, 9)


def test_business_day_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.business_day(datetime(2024, 3, 31, 12), "Europe/London")


def test_last_complete_day_is_the_business_day_before_now() -> None:
    # 23:30 UTC on 31 March 2024 is already 1 April in London (BST).
    now = utc(2024, 3, 31, 23, 30)
    assert cal.last_complete_day(now, "Europe/London") == date(2024, 3, 31)
    assert cal.last_complete_day(now, "UTC") == date(2024, 3, 30)
    assert cal.last_complete_day(utc(2024, 11, 4, 4, 30), "America/New_York") == date(2024, 11, 2)


def test_business_day_arithmetic_across_dst() -> None:
    # Day ranges count calendar days, whatever their lengths.
    assert cal.days_through(date(2024, 3, 30), date(2024, 4, 1)) == [
        date(2024, 3, 30),
        date(2024, 3, 31),
        date(2024, 4, 1),
    ]
    assert cal.days_through(date(2024, 4, 1), date(2024, 3, 31)) == []
    assert cal.days_until(date(2024, 10, 26), date(2024, 10, 28)) == [
        date(2024, 10, 26),
        date(2024, 10, 27),
    ]
    assert cal.days_until(date(2024, 10, 26), date(2024, 10, 26)) == []
    # A year's day lengths add up to 365 x 24 h: the lost hour comes back in the autumn.
    for tz in ("Europe/London", "America/New_York"):
        year = cal.days_until(date(2023, 1, 1), date(2024, 1, 1))
        assert sum((cal.day_length(d, tz) for d in year), timedelta()) == timedelta(days=365)
        assert sorted({cal.day_length(d, tz) for d in year}) == [23 * H, 24 * H, 25 * H]
    # A window of W x 24 h after a day's end (the repeat window): across a spring-forward
    # night it ends an hour into day X + W + 1; across a fall-back night on day X + W.
    london = "Europe/London"
    spring_end = cal.day_bounds(date(2024, 3, 24), london)[1] + timedelta(days=7)
    assert cal.day_reached_by(spring_end, london) == date(2024, 4, 1)
    autumn_end = cal.day_bounds(date(2024, 10, 20), london)[1] + timedelta(days=7)
    assert cal.day_reached_by(autumn_end, london) == date(2024, 10, 27)
    ny = "America/New_York"
    ny_end = cal.day_bounds(date(2024, 3, 3), ny)[1] + timedelta(days=7)
    assert cal.day_reached_by(ny_end, ny) == date(2024, 3, 11)


def test_epoch_microseconds_and_fixed_offsets() -> None:
    instant = datetime(2024, 3, 31, 1, 0, 0, 7, tzinfo=UTC)
    assert cal.epoch_us(instant) == int(instant.timestamp()) * cal.US + 7
    assert cal.epoch_us(utc(1970, 1, 1)) == 0
    # A span without a change has one offset; one with a change (or an hour from one) none.
    june = cal.day_bounds_us(date(2024, 6, 1), "Europe/London")
    assert cal.fixed_offset_us(*june, "Europe/London") == 3_600 * cal.US
    jan = cal.day_bounds_us(date(2024, 1, 15), "America/New_York")
    assert cal.fixed_offset_us(*jan, "America/New_York") == -5 * 3_600 * cal.US
    for tz, day in [(d[0], d[1]) for d in DAYS if d[4] != 24]:
        assert cal.fixed_offset_us(*cal.day_bounds_us(day, tz), tz) is None
