"""When does a provisional day become final? Pure: no Dagster, no clock.

A day X of the daily tables is final once as_of has passed X + W (every contact of X had its
repeat window) and every journey started on X has ended, i.e. as_of >= the journey's
``window_closes_at`` (last contact + W). A repeat contact keeps a journey open, so a day can
stay provisional long after X + W; the nightly schedule restates it on the night its last
journey can have closed, which this module computes from the journeys written with it.

Churn flags wait longer: ``is_churn_30d_final`` / ``is_churn_90d_final`` of day X need X final
and as_of >= the day's latest last-contact end + the churn window, so the schedule restates X
again on the night each churn window closes (:func:`churn_final_on`).

Windows are fixed durations (W x 24 h, as the SQL adds them to instants), not calendar days:
across a spring-forward night X + W days ends an hour after local midnight, one business day
later. So every date here comes from instants (:func:`first_day_reaching`), never from
``day + timedelta(days=...)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.outcomes.config import OutcomeConfig

_EPSILON = timedelta(microseconds=1)


def day_end(day: date, timezone: str) -> datetime:
    """The instant (UTC) business day ``day`` ends: the local midnight after it, which is
    also the as_of of a run whose latest loaded day is ``day``."""
    return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(timezone)).astimezone(UTC)


def first_day_reaching(instant: datetime, timezone: str) -> date:
    """The first business day F whose end (as_of) is at or after ``instant``: an instant
    exactly at local midnight belongs to the day before."""
    return (instant.astimezone(UTC) - _EPSILON).astimezone(ZoneInfo(timezone)).date()


def _window_final_on(day: date, window_days: int, timezone: str) -> date:
    """First business day F with end(F) >= end(day) + W x 24 h (the SQL's ``day_end_us +
    w_us``): X + W, or X + W + 1 when a spring-forward night lies in between."""
    return first_day_reaching(day_end(day, timezone) + timedelta(days=window_days), timezone)


def _latest_per_day(journeys: pa.Table, column: str) -> dict[date, datetime]:
    """partition_date -> the latest non-null ``column`` of its journeys."""
    if journeys.num_rows == 0:
        return {}
    grouped = journeys.group_by("partition_date").aggregate([(column, "max")])
    return {
        day: value
        for day, value in zip(
            grouped.column("partition_date").to_pylist(),
            grouped.column(f"{column}_max").to_pylist(),
            strict=True,
        )
        if value is not None
    }


def final_on_days(
    days: Iterable[date],
    journeys: pa.Table,
    as_of_day: date,
    window_days: int,
    timezone: str,
) -> dict[date, date]:
    """Provisional days of ``days`` → the first business day whose load can make them final.

    With as_of = end of business day F, day X is final iff F's end is at or after X's end +
    W x 24 h and every ``window_closes_at`` of X's journeys: F = max(X + W (X + W + 1 across a
    spring-forward night), business day of the latest close, an instant exactly at midnight
    belonging to the day before). Days already final at ``as_of_day`` are left out. A later
    contact can extend a journey again: the day is then provisional after its restatement,
    with a later date, and is restated again then.
    """
    latest = _latest_per_day(journeys, "window_closes_at")
    out = {}
    for day in days:
        final_on = _window_final_on(day, window_days, timezone)
        if day in latest:
            final_on = max(final_on, first_day_reaching(latest[day], timezone))
        if final_on > as_of_day:
            out[day] = final_on
    return out


def churn_final_on(
    days: Iterable[date], journeys: pa.Table, cfg: OutcomeConfig
) -> dict[date, tuple[date, date]]:
    """Each day of ``days`` → (first business day F whose as_of makes ``is_churn_30d_final``
    true, the same for ``is_churn_90d_final``), the SQL's rule (``day_status``): the day is
    final and as_of >= the latest ``last_contact_ended_at`` of its journeys (the day's end
    when it has none) + the churn window (``cfg.churn_short_days`` / ``churn_long_days``,
    fixed 24 h days).

    Computed from the journeys as they stand: while a journey is open its last contact can
    still move, and the day is restated when it can close (:func:`final_on_days`), which
    recomputes these dates.
    """
    tz = cfg.timezone
    closes = _latest_per_day(journeys, "window_closes_at")
    last_end = _latest_per_day(journeys, "last_contact_ended_at")
    out: dict[date, tuple[date, date]] = {}
    for day in days:
        final_on = _window_final_on(day, cfg.repeat_window_days, tz)
        if day in closes:
            final_on = max(final_on, first_day_reaching(closes[day], tz))
        # Instants in UTC: a fixed-duration window, whatever the wall clock does meanwhile.
        ended = last_end.get(day, day_end(day, tz)).astimezone(UTC)
        out[day] = (
            max(final_on, first_day_reaching(ended + timedelta(days=cfg.churn_short_days), tz)),
            max(final_on, first_day_reaching(ended + timedelta(days=cfg.churn_long_days), tz)),
        )
    return out


def churn_pending(
    churn_on: dict[date, tuple[date, date]], as_of_day: date
) -> dict[date, list[date]]:
    """The churn closing days still ahead of ``as_of_day`` (what a run records for the
    nightly schedule); days whose both windows have closed are left out."""
    out = {}
    for day, dates in churn_on.items():
        ahead = sorted({d for d in dates if d > as_of_day})
        if ahead:
            out[day] = ahead
    return out


def open_journey_count(journeys: pa.Table) -> int:
    """Journeys not ended at as_of (for run metadata)."""
    if journeys.num_rows == 0:
        return 0
    return int(pc.sum(pc.invert(journeys.column("is_ended"))).as_py() or 0)
