"""Which business days a nightly tick or a late landing file must (re)compute. Pure: no Dagster.

Two facts about the outcome tables drive every rule here (see ``outcome_pipeline/outcomes``):

- journeys of day D can change until D's repeat window (W days, default 7) has closed, i.e.
  until the data of day D + W is staged; after that the day's rows are final (``is_final``),
  except journeys a repeat contact keeps open, which close later;
- a day's churn flags (``is_churn_30d_final`` / ``is_churn_90d_final``) wait for the 30- and
  90-day churn windows after its journeys' last contacts, so a final day is restated once
  more on each night a churn window of it closes (``NightlyPlan.churn``);
- the outcome rows of day X read the staged partitions X - W - 2 .. as_of (the outcomes asset's
  own lookback, ``LOOKBACK_DAYS``), so a staged partition D feeds outcome days up to D + W + 2,
  and, because contacts after a journey's start decide how it ends, back to D - W - 1 (one more
  day back because a day folder also holds late rows of the day before);
- the CRM feeds (customers, cases, subscription events) are histories: a version delivered on
  day D holds from D until the customer's next version, and the outcomes read every earlier
  partition of them, so a CRM partition D feeds every outcome day from D - W - 1 on. Its
  reach forward is capped by the restatement horizon (``OUTCOME_LATE_FILE_HORIZON_DAYS``,
  the same number the outcome asset's CRM lineage declares); older days need a backfill.

Nothing here reads the wall clock: a tick is placed by its scheduled time, a late file by the
day folder it sits in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from outcome_pipeline.outcomes.config import HISTORY_INPUTS, OutcomeConfig
from outcome_pipeline.settings import DEFAULT_HORIZON_DAYS

# Rows of a day that arrive in the next day's folder (the feeds' "late rows"): a staged
# partition D may hold contacts of D - 1, so its reach starts one day earlier.
LATE_ROW_DAYS = 1
# The outcomes asset reads W + the lookback margin (OutcomeConfig.lookback_margin_days,
# OUTCOME_LOOKBACK_MARGIN_DAYS, default 2: DST and transfer legs) days before a day; the
# Dagster lineage maps a staged day onto the same span of outcome days, so a late file
# restates it all.
LOOKBACK_MARGIN_DAYS = OutcomeConfig.from_env().lookback_margin_days


@dataclass(frozen=True)
class DayRange:
    """Business days ``first``..``last`` inclusive (a single day when they are equal)."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"empty range {self.first}..{self.last}")

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @property
    def keys(self) -> tuple[str, str]:
        """(first, last) partition keys; the daily partitions use ISO dates."""
        return self.first.isoformat(), self.last.isoformat()

    def clip(self, lo: date, hi: date | None = None) -> DayRange | None:
        """The part of the range within [lo, hi]; None when nothing is left."""
        first = max(self.first, lo)
        last = self.last if hi is None else min(self.last, hi)
        return DayRange(first, last) if first <= last else None


@dataclass(frozen=True)
class NightlyPlan:
    """What one nightly tick does.

    ``load``: days to stage and compute (normally just yesterday); ``restate``: days whose
    outcome window closed with the loaded data, to recompute once the load has succeeded;
    ``churn``: further ranges of days whose churn windows closed with it (their own runs,
    after the load too: they are far back, and one range with ``restate`` would recompute
    every day in between).
    """

    load: DayRange | None
    restate: DayRange | None
    reason: str = ""
    churn: tuple[DayRange, ...] = ()


def group_days(days: Iterable[date], gap_days: int, max_days: int) -> tuple[DayRange, ...]:
    """Sorted days → as few ranges as possible: a day joins the range before it when at most
    ``gap_days`` after its last day (the days in between are recomputed identically, cheaper
    than another run) and the range stays within ``max_days``."""
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    ranges: list[DayRange] = []
    for day in sorted(set(days)):
        last = ranges[-1] if ranges else None
        if (
            last is not None
            and (day - last.last).days <= gap_days
            and (day - last.first).days < max_days
        ):
            ranges[-1] = DayRange(last.first, day)
        else:
            ranges.append(DayRange(day, day))
    return tuple(ranges)


def churn_due(
    churn_pending: Mapping[date, Sequence[date]],
    load: DayRange,
    start: date,
    covered: DayRange | None,
    gap_days: int,
    max_days: int,
) -> tuple[DayRange, ...]:
    """Ranges of days whose churn window closes by ``load.last`` (the earliest date they
    recorded, :func:`outcome_pipeline.outcomes.maturity.churn_pending`), except days the load
    or ``covered`` (the night's other restatement) recompute anyway. A day stays due until a
    run recomputes it at or after that date (a failed restatement is retried the next night);
    a day restated for another reason in between records its dates afresh."""
    due = [
        day
        for day, dates in churn_pending.items()
        if dates
        and min(dates) <= load.last
        and start <= day < load.first
        and not (covered is not None and covered.first <= day <= covered.last)
    ]
    return group_days(due, gap_days, max_days)


def business_day(instant: datetime, timezone: str) -> date:
    """The business (local calendar) day of a timezone-aware instant."""
    if instant.tzinfo is None:
        raise ValueError("a tick time must be timezone-aware")
    return instant.astimezone(ZoneInfo(timezone)).date()


def nightly_plan(
    scheduled: datetime,
    previous: datetime | None,
    timezone: str,
    start: date,
    window_days: int,
    pending: Mapping[date, date] | None = None,
    last_loaded: date | None = None,
    catch_up_days: int = 0,
    churn_pending: Mapping[date, Sequence[date]] | None = None,
    churn_gap_days: int = 7,
    max_range_days: int = 366,
) -> NightlyPlan:
    """Days a tick at ``scheduled`` loads and restates, given the tick before it.

    A tick loads every business day completed since the previous tick: with the default daily
    cron that is yesterday, and for a cron that fires less often (say weekly) every day since
    the last one, so none is skipped. It restates the days whose window closed with that
    data: day L - W for each loaded day L (W = 7: yesterday - 7, i.e. tick day - 8), never the
    whole window, because the days in between are still provisional and the next ticks will
    reach them. Days before ``start`` (the first partition) are dropped.

    ``pending`` maps days that were still provisional at their last computation (a repeat
    contact kept one of their journeys open past X + W) to the business day whose load can make
    them final (:func:`outcome_pipeline.outcomes.maturity.final_on_days`); a tick also restates
    every such day that is due by its last loaded day, so a long journey is restated on the night
    it can have closed, not only at X + W. The restatement is one range from the oldest day due
    to the newest (days in between are recomputed identically).

    ``previous`` is the scheduled time of the tick before (None: treat as the day before);
    a second tick on the same business day loads nothing.

    ``last_loaded``: the latest day whose interactions are staged. When a previous tick left
    days after it unloaded (it skipped them as not ready) and it is at most ``catch_up_days``
    before yesterday, the load starts right after it, so a later tick picks those days up.

    ``churn_pending`` maps computed days to the business days their churn windows close on
    (still ahead when they were computed); days due by the last loaded day become
    ``NightlyPlan.churn``, grouped by :func:`group_days` (``churn_gap_days``,
    ``max_range_days``).
    """
    if window_days < 1:
        raise ValueError("window_days must be at least 1")
    last = business_day(scheduled, timezone) - timedelta(days=1)
    prev_last = (
        business_day(previous, timezone) - timedelta(days=1)
        if previous is not None
        else last - timedelta(days=1)
    )
    if (
        last_loaded is not None
        and last_loaded < prev_last
        and last_loaded >= last - timedelta(days=catch_up_days)
    ):
        prev_last = last_loaded
    if prev_last >= last:
        return NightlyPlan(None, None, f"{last} was already due at the previous tick")
    load = DayRange(prev_last + timedelta(days=1), last).clip(start)
    if load is None:
        return NightlyPlan(None, None, f"{last} is before the first partition {start}")
    window = timedelta(days=window_days)
    due = [
        day
        for day, final_on in (pending or {}).items()
        if final_on <= load.last and start <= day < load.first
    ]
    restate = DayRange(load.first - window, load.last - window).clip(start)
    if restate is not None and restate.last >= load.first:
        # A catch-up longer than W would restate days it also loads: the load computes them.
        restate = DayRange(restate.first, load.first - timedelta(days=1)).clip(start)
    if due:
        first = min(due) if restate is None else min(min(due), restate.first)
        last_due = max(due) if restate is None else max(max(due), restate.last)
        restate = DayRange(first, last_due)
    churn = churn_due(churn_pending or {}, load, start, restate, churn_gap_days, max_range_days)
    return NightlyPlan(load, restate, churn=churn)


def not_ready(
    load: DayRange, has_files: Callable[[date], bool], folder: Callable[[date], object]
) -> str | None:
    """Why a load cannot start yet (its first day folder without files), or None.

    Staging a day whose files have not landed would stage it empty (and is refused), so a
    tick waits; the next tick loads the day along with its own (``nightly_plan``'s catch-up).
    """
    for day in load.days:
        if not has_files(day):
            return f"not ready: {folder(day)} has no files yet"
    return None


def outcome_days_for_staged(
    staged: DayRange,
    window_days: int,
    start: date,
    last_computed: date | None,
    history_horizon_days: int | None = None,
) -> DayRange | None:
    """Outcome days to recompute after the staged partitions ``staged`` changed.

    A contact staged on day D can make contacts in the W after it repeats (journeys of the
    next W days change) and can be the repeat that reopens a journey started in the W before
    it (journeys of the previous W days change); the outcomes asset also reads W + 2 days back,
    so the span is ``D - W - 1 .. D + W + 2``. For a CRM history feed
    (``history_horizon_days`` set) a version of day D changes the segment, MRR and identity
    of every later contact until the customer's next version, so the span is
    ``D - W - 1 .. D + history_horizon_days``. Only days already computed
    (``<= last_computed``) are restated: later ones are computed by the nightly run anyway.
    """
    if last_computed is None:
        return None
    reach = (
        window_days + LOOKBACK_MARGIN_DAYS if history_horizon_days is None else history_horizon_days
    )
    span = DayRange(
        staged.first - timedelta(days=window_days + LATE_ROW_DAYS),
        staged.last + timedelta(days=reach),
    )
    return span.clip(start, last_computed)


@dataclass(frozen=True)
class LatePlan:
    """The runs late files need: restage ``staging`` for ``tables``, then ``outcomes``."""

    staging: DayRange
    tables: tuple[str, ...]
    outcomes: DayRange | None


def late_plan(
    late: Iterable[tuple[str, date]],
    window_days: int,
    start: date,
    last_computed: date | None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> LatePlan | None:
    """One restage covering every (table, day) with late files, and the outcomes they feed.

    The staged days are merged into one range: restaging a day in between is idempotent and
    cheap next to a second chain of runs writing overlapping outcome days at the same time.
    The outcome days are the union of each file's span (:func:`outcome_days_for_staged`; a
    CRM file reaches ``horizon_days`` forward), one range from the earliest to the latest.
    """
    pairs = sorted(set(late))
    if not pairs:
        return None
    days = [d for _, d in pairs]
    staging = DayRange(min(days), max(days))
    tables = tuple(sorted({t for t, _ in pairs}))
    spans = [
        outcome_days_for_staged(
            DayRange(day, day),
            window_days,
            start,
            last_computed,
            horizon_days if table in HISTORY_INPUTS else None,
        )
        for table, day in pairs
    ]
    spans = [s for s in spans if s is not None]
    outcomes = DayRange(min(s.first for s in spans), max(s.last for s in spans)) if spans else None
    return LatePlan(staging, tables, outcomes)
