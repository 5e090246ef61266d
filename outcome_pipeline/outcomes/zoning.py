"""Where a run's work is split in time, and the instants (epoch microseconds) it is cut at.

A contact starts a journey iff its customer had no contact starting in the W before it, so
``compute_outcomes`` reads three zones:

- *main zone*, from the first computed day (``scope_start``) to ``min(as_of, last day's end
  + H + W)`` (the journey horizon bounds what a computed row can depend on): legs are
  deduplicated, collapsed into contacts, identified, sequenced; journeys started on the
  computed days (and their contacts up to as_of) come from here.
- *margin*, the day before the main zone: read so that the legs of a contact begun the
  evening before find their root; only the chains that reach into the main zone are kept
  (their contacts give those legs a customer and segment), the rest of the day is dropped
  before any contact or identity work.
- *context zone*, the W before the main zone: only first legs, reduced to each customer's
  latest start (for customers seen in the main zone), to tell whether the main zone's first
  contact of a customer is a repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from outcome_pipeline.outcomes.config import OutcomeConfig

# Microseconds per second: the engine's instants are epoch microseconds.
US = 1_000_000


@dataclass(frozen=True)
class Zones:
    """Where the main zone starts (``scope_start``), the margin day before it
    (``margin_start``, and the first staged partition read, ``margin_day``) and the context
    zone (``context_start`` to ``scope_start``). ``zone_end``, when known (an as_of was
    given), is where the main zone stops: :func:`input_selects` then reads only the
    interactions queued in ``margin_start``..``zone_end``, so a chunk of a long range reads
    its own zone, not every contact up to as_of."""

    context_start: datetime
    margin_start: datetime
    margin_day: date
    scope_start: datetime
    zone_end: datetime | None = None


def zones(days: list[date], cfg: OutcomeConfig, as_of: datetime | None = None) -> Zones:
    """The zones of a run over ``days`` (see the module docstring); with ``as_of`` the
    main zone's end too (:func:`main_zone_end_us`)."""
    scope_start = day_bounds_us(min(days), cfg.timezone)[0]
    margin = scope_start - 86_400 * US
    context = scope_start - cfg.repeat_window_days * 86_400 * US
    utc = ZoneInfo("UTC")
    zone_end = None
    if as_of is not None:
        end_us = main_zone_end_us(max(days), epoch_us(as_of), cfg)
        zone_end = datetime(1970, 1, 1, tzinfo=utc) + timedelta(microseconds=end_us)
    return Zones(
        context_start=datetime.fromtimestamp(context / US, utc),
        margin_start=datetime.fromtimestamp(margin / US, utc),
        margin_day=datetime.fromtimestamp(margin / US, ZoneInfo(cfg.timezone)).date(),
        scope_start=datetime.fromtimestamp(scope_start / US, utc),
        zone_end=zone_end,
    )


def main_zone_end_us(last_day: date, as_of_us: int, cfg: OutcomeConfig) -> int:
    """The main zone's end (epoch us): min(as_of, ``last_day``'s end + H + W). No contact
    after it can change a row of a day up to ``last_day`` (docs/journey_horizon.md)."""
    h_us = cfg.max_journey_days * 86_400 * US
    w_us = cfg.repeat_window_days * 86_400 * US
    return min(as_of_us, day_bounds_us(last_day, cfg.timezone)[1] + h_us + w_us)


def day_bounds_us(day: date, timezone: str) -> tuple[int, int]:
    """[start, end) of a business day in epoch microseconds (exact across DST changes)."""
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, time(), tz)
    end = datetime.combine(day + timedelta(days=1), time(), tz)
    return int(start.timestamp()) * US, int(end.timestamp()) * US


def epoch_us(instant: datetime) -> int:
    delta = instant - datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


def fixed_offset_us(start_us: int, end_us: int, timezone: str) -> int | None:
    """The UTC offset (us) if it is the same from start to end (hourly check), else None."""
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
