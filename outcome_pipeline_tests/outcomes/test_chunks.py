"""Chunk planning of a range run (pure): which days go together, what a failure says."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from outcome_pipeline.outcomes import OutcomeConfig, input_selects, input_window, zones
from outcome_pipeline.outcomes.chunks import describe_chunks, failed_range_message, plan_chunks

D = date(2024, 3, 1)


def days(*offsets: int) -> list[date]:
    return [D + timedelta(days=i) for i in offsets]


def test_a_range_is_cut_into_consecutive_chunks_of_at_most_c_days() -> None:
    assert plan_chunks(days(*range(12)), 5) == [
        days(0, 1, 2, 3, 4),
        days(5, 6, 7, 8, 9),
        days(10, 11),
    ]
    assert plan_chunks(days(*range(3)), 30) == [days(0, 1, 2)]
    assert plan_chunks(days(2, 0, 1, 1), 1) == [days(0), days(1), days(2)]
    assert plan_chunks([], 5) == []


def test_a_gap_never_widens_a_chunk() -> None:
    """Chunks span at most C calendar days (their main zone follows the span, not the count)."""
    assert plan_chunks(days(0, 1, 7, 8, 9, 20), 5) == [days(0, 1), days(7, 8, 9), days(20)]


def test_chunk_days_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        plan_chunks(days(0), 0)


def test_a_failure_names_the_chunks_kept_and_the_days_to_rerun() -> None:
    chunks = plan_chunks(days(*range(12)), 5)
    message = failed_range_message(chunks[:1], chunks[1], chunks[2:], "boom")
    assert message.startswith("outcome chunk 2024-03-06..2024-03-10 failed")
    assert "chunks written and kept: 2024-03-01..2024-03-05" in message
    assert "not computed: 2024-03-11..2024-03-12" in message
    assert "Rerun the days from 2024-03-06 on. Error: boom" in message
    assert describe_chunks([]) == "none"


def test_a_chunk_reads_contacts_up_to_its_end_plus_h_plus_w_or_as_of() -> None:
    """The main zone ends at min(as_of, last day's end + H + W) (the last day's end being
    day + 1); the interactions select is bounded there, and unbounded without an as_of."""
    tz = ZoneInfo("Europe/London")
    cfg = OutcomeConfig(timezone="Europe/London", max_journey_days=10, repeat_window_days=7)
    as_of = datetime.combine(date(2024, 4, 30), time(), tz)
    chunk = days(0, 1, 2, 3, 4)  # 1..5 March: zone end 6 March + 17 days
    z = zones(chunk, cfg, as_of)
    assert z.zone_end == datetime(2024, 3, 23, tzinfo=tz)
    assert zones(chunk, cfg, datetime(2024, 3, 20, tzinfo=tz)).zone_end == datetime(
        2024, 3, 20, tzinfo=tz
    )
    assert zones(chunk, cfg).zone_end is None
    window = input_window(chunk[0], chunk[-1], as_of, cfg)
    bounded = input_selects(str, window, z)
    # 23 March 00:00 London is 00:00 UTC (summer time starts on the 31st).
    assert (
        "queued_at BETWEEN TIMESTAMPTZ '2024-02-29 00:00:00.000000+00'" in bounded["interactions"]
    )
    assert "AND TIMESTAMPTZ '2024-03-23 00:00:00.000000+00'" in bounded["interactions"]
    assert "TIMESTAMPTZ '2024-03-23" in bounded["cases"]
    unbounded = input_selects(str, window, zones(chunk, cfg))
    assert "queued_at BETWEEN" not in unbounded["interactions"]
    assert {k: v for k, v in bounded.items() if k not in ("interactions", "cases")} == {
        k: v for k, v in unbounded.items() if k not in ("interactions", "cases")
    }
