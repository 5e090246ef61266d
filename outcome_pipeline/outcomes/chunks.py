"""Cutting a range run of outcome days into chunks (pure, no Dagster, no I/O).

A day's rows depend only on the contacts up to its end + 1 + H + W (the journey horizon,
docs/journey_horizon.md), never on which other days are computed with it: a range run
equals day-by-day runs. So a long range is computed chunk by chunk, each chunk in its own
engine session reading its own main zone (up to min(as_of, chunk end + 1 + H + W)): peak
memory follows the chunk length C, not the range, and the tables equal one unchunked run at
the same as_of.

How long a chunk is (:func:`chunk_size`): its main zone holds C + 1 + H + W days of contacts,
so memory follows C + H + W and the contact work of a range is (C + 1 + H + W) / C times one
run's. The default sizes C from a row budget for the main zone (``OUTCOME_CHUNK_ROWS``) and
the staged rows per day: as large as the budget allows (less overlap), never larger (memory),
and never growing with the range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

# The most contact work a chunked range may cost, as a multiple of one run's, when the row
# budget is too small for the horizon: a smaller C than (1 + H + W) / (factor - 1) saves
# little memory (the zone never drops below 1 + H + W days) for much more work (C = 1 at the
# defaults reads 39 days per day computed). 2.5 keeps the floor's zone (26 + 39 days at the
# defaults) below the 68 days of the former fixed C = 30.
MAX_WORK_FACTOR = 2.5
# C when the staged volume is unknown (no load_audit rows in the range's window): the former
# fixed default.
FALLBACK_CHUNK_DAYS = 30


@dataclass(frozen=True)
class ChunkSize:
    """The chunk length C of a range run and why (for the run's log line)."""

    days: int
    why: str


def min_chunk_days(tail_days: int) -> int:
    """The smallest C the budget rule picks: the contact work stays within MAX_WORK_FACTOR
    times one run's (``tail_days`` = 1 + H + W, the days a chunk reads past its end)."""
    return max(1, math.ceil(tail_days / (MAX_WORK_FACTOR - 1)))


def chunk_size(
    range_days: int,
    tail_days: int,
    budget_rows: int,
    rows_per_day: float | None,
    override_days: int | None = None,
) -> ChunkSize:
    """C for a range of ``range_days`` calendar days. ``override_days`` (OUTCOME_CHUNK_DAYS)
    wins; else C = budget_rows / rows_per_day - tail_days (the main zone, C + tail_days days,
    holds about the budget), at least :func:`min_chunk_days`, at most the range. It depends on
    the range only through that cap: memory stays bounded however long the range."""
    if override_days is not None:
        return ChunkSize(override_days, f"OUTCOME_CHUNK_DAYS={override_days}")
    if rows_per_day is None:
        return ChunkSize(
            min(FALLBACK_CHUNK_DAYS, range_days),
            f"no staged interactions recorded (load_audit) around the range: "
            f"{FALLBACK_CHUNK_DAYS} days",
        )
    if rows_per_day <= 0:
        return ChunkSize(range_days, "no staged interactions around the range: one chunk")
    fit = math.floor(budget_rows / rows_per_day) - tail_days
    floor = min_chunk_days(tail_days)
    days = max(floor, fit)
    why = (
        f"OUTCOME_CHUNK_ROWS={budget_rows:,} / ~{rows_per_day:,.0f} staged interactions/day "
        f"- {tail_days} days read past a chunk (1 + H + W) = {fit}"
    )
    if fit < floor:
        why += (
            f"; raised to {floor} (at most {MAX_WORK_FACTOR}x the work of one run): the "
            f"budget is below the horizon's {floor + tail_days} days of contacts"
        )
    if days >= range_days:
        return ChunkSize(range_days, f"{why}; the range ({range_days} days) is one chunk")
    return ChunkSize(days, why)


def plan_chunks(days: list[date], chunk_days: int) -> list[list[date]]:
    """The distinct ``days``, in order, cut into chunks each spanning at most ``chunk_days``
    calendar days (from its first day): a gap in the days never widens a chunk's main zone.
    """
    if chunk_days < 1:
        raise ValueError(f"chunk_days must be at least 1, got {chunk_days}")
    chunks: list[list[date]] = []
    for day in sorted(set(days)):
        if chunks and day < chunks[-1][0] + timedelta(days=chunk_days):
            chunks[-1].append(day)
        else:
            chunks.append([day])
    return chunks


def describe_chunks(chunks: list[list[date]]) -> str:
    """'a..b, c..d' (a chunk's first and last day), for logs and failure messages."""
    return ", ".join(f"{c[0]}..{c[-1]}" for c in chunks) or "none"


def failed_range_message(
    written: list[list[date]], failed: list[date], not_started: list[list[date]], error: str
) -> str:
    """What a range run that failed in a chunk left behind, and what to rerun."""
    kept = (
        f"chunks written and kept: {describe_chunks(written)}"
        if written
        else "no chunk was written"
    )
    rest = f"; not computed: {describe_chunks(not_started)}" if not_started else ""
    return (
        f"outcome chunk {failed[0]}..{failed[-1]} failed (its transaction rolled back: its "
        f"days are as they were before the run); {kept}{rest}. Rerun the days from "
        f"{failed[0]} on. Error: {error}"
    )
