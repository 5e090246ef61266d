"""Business days: the one calendar every layer uses. Pure: the standard library only.

A business day is a local calendar day in the business timezone (``OUTCOME_TIMEZONE``): day
``d`` is ``[d 00:00, d+1 00:00)`` local time, so on a DST change it lasts 23 or 25 hours. Its
bounds are always local midnights converted to UTC, never 24-hour steps from a start. Every
day counts (there are no weekends or holidays here): "business" means "in the business
timezone". Partitions, the as-of time, validation bounds and the outcome engine's epoch
microseconds all come from the functions below.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Microseconds per second: the outcome engine's instants are epoch microseconds.
US = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# An instant exactly at local midnight is the end of the day before (see day_reached_by).
_EPSILON = timedelta(microseconds=1)


def day_start(day: date, timezone: str) -> datetime:
    """The instant business day ``day`` starts (its local midnight), timezone-aware, local."""
    return datetime.combine(day, time(), tzinfo=ZoneInfo(timezone))


def day_end(day: date, timezone: str) -> datetime:
    """The instant business day ``day`` ends (the local midnight after it), timezone-aware,
    local; also the as_of of a run whose latest loaded day is ``day``."""
    return day_start(day + timedelta(days=1), timezone)


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of business day ``day`` in UTC."""
    return day_start(day, timezone).astimezone(UTC), day_end(day, timezone).astimezone(UTC)


def day_bounds_us(day: date, timezone: str) -> tuple[int, int]:
    """[start, end) of business day ``day`` in epoch microseconds."""
    start, end = day_start(day, timezone), day_end(day, timezone)
    return int(start.timestamp()) * US, int(end.timestamp()) * US


def day_length(day: date, timezone: str) -> timedelta:
    """How long business day ``day`` lasts: 24 h, or 23 / 25 h on a DST change."""
    start, end = day_bounds(day, timezone)
    return end - start


def business_day(instant: datetime, timezone: str) -> date:
    """The business day holding a timezone-aware instant (its local date)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant!r} must be timezone-aware")
    return instant.astimezone(ZoneInfo(timezone)).date()


def day_reached_by(instant: datetime, timezone: str) -> date:
    """The first business day whose end is at or after ``instant``: the business day of
    the instant, except that an instant exactly at a local midnight gives the day before."""
    return business_day(instant.astimezone(UTC) - _EPSILON, timezone)


def last_complete_day(now: datetime, timezone: str) -> date:
    """The business day before ``now``'s: the latest day whose data can be complete."""
    return business_day(now, timezone) - timedelta(days=1)


def days_through(first: date, last: date) -> list[date]:
    """Days ``first``..``last`` inclusive (empty when ``last`` is before ``first``)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def days_until(start: date, end: date) -> list[date]:
    """Days ``start``..``end`` with ``end`` excluded (a half-open window, e.g. a partition
    window's start and end dates)."""
    return [start + timedelta(days=i) for i in range((end - start).days)]


def epoch_us(instant: datetime) -> int:
    """A timezone-aware instant in epoch microseconds (exact: integer arithmetic)."""
    delta = instant - EPOCH
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


def fixed_offset_us(start_us: int, end_us: int, timezone: str) -> int | None:
    """The UTC offset (us) if it is the same from ``start_us`` to ``end_us`` (hourly check,
    an hour of slack either side), else None: a span without a DST change can be bucketed into
    local days by one addition."""
    tz = ZoneInfo(timezone)
    step = 3_600 * US
    offsets = {
        datetime.fromtimestamp(t / US, tz).utcoffset()
        for t in range(start_us - step, end_us + 2 * step, step)
    }
    if len(offsets) != 1:
        return None
    offset = offsets.pop()
    return None if offset is None else int(offset.total_seconds()) * US
