"""The as-of rule: which instant a run computes its rows as of, and which days it can compute.
Pure: no Dagster; the clock and the warehouse are handed in.

The as-of time is data, not the clock: the end of the latest business day for which
interactions files were read (or a day the caller names), so reruns on the same data give the
same rows and a later run restates a day whose repeat window has since closed. The clock only
caps it: a day folder dated today or later never counts (it cannot be complete).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from outcome_pipeline.calendar import day_end, last_complete_day


def as_of_day(
    tagged: str | None,
    latest_staged: Callable[[date], date | None],
    now: datetime,
    timezone: str,
) -> date | None:
    """The run's as-of day: ``tagged`` (YYYY-MM-DD) when given, else
    ``latest_staged(not_after)``, the latest day whose interactions landed, capped by the day
    before ``now``'s business day (files in a folder dated today or later, a generator run
    into the future or a mislabelled folder, cannot make days final early). None: nothing
    staged yet."""
    if tagged:
        return date.fromisoformat(tagged)
    return latest_staged(last_complete_day(now, timezone))


def split_at_as_of(days: list[date], as_of_day: date | None) -> tuple[list[date], list[date]]:
    """(days that can be computed, days after the latest staged day).

    A day after as_of has no data yet, and computing it would move as_of past the loaded data
    (flagging earlier days final too early). A UI backfill of staging + outcomes reaches such
    days: Dagster fans the outcomes out W + 2 days past the staged range.
    """
    if as_of_day is None:
        return [], list(days)
    return [d for d in days if d <= as_of_day], [d for d in days if d > as_of_day]


@dataclass(frozen=True)
class AsOfPlan:
    """What a run over ``requested`` days computes: ``days`` as of ``instant`` (the end of
    ``day``; None when there is nothing to compute), and the ``skipped`` days after it."""

    day: date | None
    instant: datetime | None
    days: list[date]
    skipped: list[date]


def plan_as_of(requested: list[date], day: date | None, timezone: str) -> AsOfPlan:
    """The days a run computes and the instant it computes them as of (:func:`as_of_day`
    gives ``day``)."""
    days, skipped = split_at_as_of(requested, day)
    instant = day_end(day, timezone) if days and day is not None else None
    return AsOfPlan(day, instant, days, skipped)
