"""When does a provisional day become final? Pure: no Dagster, no clock.

A day X of the daily tables is final once as_of has passed X + W (every contact of X had its
repeat window) and every journey started on X has ended, i.e. as_of >= the journey's
``window_closes_at`` (last contact + W). A repeat contact keeps a journey open, so a day can
stay provisional long after X + W; the nightly schedule restates it on the night its last
journey can have closed, which this module computes from the journeys written with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

_EPSILON = timedelta(microseconds=1)


def final_on_days(
    days: Iterable[date],
    journeys: pa.Table,
    as_of_day: date,
    window_days: int,
    timezone: str,
) -> dict[date, date]:
    """Provisional days of ``days`` → the first business day whose load can make them final.

    With as_of = end of business day F, day X is final iff F >= X + W and F's end is at or
    after every ``window_closes_at`` of X's journeys: F = max(X + W, business day of the latest
    close, an instant exactly at midnight belonging to the day before). Days already final at
    ``as_of_day`` are left out. A later contact can extend a journey again: the day is then
    provisional after its restatement, with a later date, and is restated again then.
    """
    zone = ZoneInfo(timezone)
    latest: dict[date, date] = {}
    if journeys.num_rows:
        grouped = journeys.group_by("partition_date").aggregate([("window_closes_at", "max")])
        for day, closes in zip(
            grouped.column("partition_date").to_pylist(),
            grouped.column("window_closes_at_max").to_pylist(),
            strict=True,
        ):
            if closes is not None:
                latest[day] = (closes - _EPSILON).astimezone(zone).date()
    out = {}
    for day in days:
        final_on = max(day + timedelta(days=window_days), latest.get(day, day))
        if final_on > as_of_day:
            out[day] = final_on
    return out


def open_journey_count(journeys: pa.Table) -> int:
    """Journeys not ended at as_of (for run metadata)."""
    if journeys.num_rows == 0:
        return 0
    return int(pc.sum(pc.invert(journeys.column("is_ended"))).as_py() or 0)
