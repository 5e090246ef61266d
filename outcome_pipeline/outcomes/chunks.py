"""Cutting a range run of outcome days into chunks (pure, no Dagster, no I/O).

A day's rows depend only on the contacts up to its end + 1 + H + W (the journey horizon,
docs/journey_horizon.md), never on which other days are computed with it: a range run
equals day-by-day runs. So a long range is computed chunk by chunk, each chunk in its own
engine session reading its own main zone (up to min(as_of, chunk end + 1 + H + W)): peak
memory follows the chunk length C, not the range, and the tables equal one unchunked run at
the same as_of.
"""

from __future__ import annotations

from datetime import date, timedelta


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
