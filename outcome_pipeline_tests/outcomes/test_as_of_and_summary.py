"""The as-of rule and the per-day rate summary of a run, without Dagster or a warehouse."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa

from outcome_pipeline.outcomes.as_of import as_of_day, plan_as_of, split_at_as_of
from outcome_pipeline.outcomes.day_summary import (
    SUMMARY_RATES,
    rates_by_day,
    rows_per_day,
    summary_markdown,
)
from outcome_pipeline.outcomes.tables import RATES

D1, D2, D3 = date(2024, 3, 30), date(2024, 3, 31), date(2024, 4, 1)
LONDON = "Europe/London"


def test_the_tag_wins_and_the_staged_day_is_capped_by_the_clock() -> None:
    asked: list[date] = []

    def latest(not_after: date) -> date | None:
        asked.append(not_after)
        return D2

    # 23:30 UTC on 31 March is 00:30 on 1 April in London: the 31st is the last complete day.
    now = datetime(2024, 3, 31, 23, 30, tzinfo=UTC)
    assert as_of_day(None, latest, now, LONDON) == D2
    assert asked == [D2]
    assert as_of_day("2024-03-30", latest, now, LONDON) == D1
    assert asked == [D2]  # a tagged run does not ask the warehouse
    assert as_of_day(None, lambda _: None, now, LONDON) is None


def test_days_after_as_of_are_skipped() -> None:
    assert split_at_as_of([D1, D2, D3], D2) == ([D1, D2], [D3])
    assert split_at_as_of([D1, D2], None) == ([], [D1, D2])


def test_the_as_of_instant_is_the_end_of_the_as_of_day() -> None:
    # 31 March 2024 lasts 23 h in London: it ends at 23:00 UTC.
    plan = plan_as_of([D1, D2, D3], D2, LONDON)
    assert (plan.days, plan.skipped) == ([D1, D2], [D3])
    assert plan.instant is not None
    assert plan.instant.astimezone(UTC) == datetime(2024, 3, 31, 23, tzinfo=UTC)
    nothing = plan_as_of([D3], D2, LONDON)
    assert (nothing.instant, nothing.days, nothing.skipped) == (None, [], [D3])
    assert plan_as_of([D1], None, LONDON).instant is None


def _daily(rows: list[dict[str, object]]) -> pa.Table:
    parts = sorted({c for r in SUMMARY_RATES for c in RATES["daily_outcomes"][r]})
    filled = [
        {"partition_date": D1, "is_final": True, **dict.fromkeys(parts, 0), **r} for r in rows
    ]
    return pa.Table.from_pylist(filled)


def test_rates_are_rederived_from_their_summed_parts() -> None:
    num, den = RATES["daily_outcomes"]["resolution_rate"]
    daily = _daily(
        [
            # 1 of 1 and 1 of 3: the day's rate is 2 / 4, not the mean of 100 % and 33 %.
            {num: 1, den: 1},
            {num: 1, den: 3, "is_final": False},
            {"partition_date": D2, num: None, den: 2},
        ]
    )
    by_day = rates_by_day(daily)
    assert list(by_day) == [D1, D2]
    final, rates = by_day[D1]
    assert not final  # one provisional row makes the day provisional
    assert rates["resolution_rate"] == 0.5
    assert rates["repeat_contact_rate"] is None  # no denominator
    # Rates sharing the denominator (journeys_ended) are 0 on D2, the others have none.
    shared = {r for r in SUMMARY_RATES if RATES["daily_outcomes"][r][1] == den}
    assert shared >= {"resolution_rate", "fcr_rate"}
    assert by_day[D2] == (True, {r: 0.0 if r in shared else None for r in SUMMARY_RATES})
    assert rows_per_day(daily) == {D1: 2, D2: 1}
    lines = summary_markdown(daily).splitlines()
    assert lines[0] == "| day | final | " + " | ".join(SUMMARY_RATES) + " |"
    cells = {D1: {"resolution_rate": "50.0%"}, D2: {}}
    for line, day, final in [(lines[2], D1, "no"), (lines[3], D2, "yes")]:
        want = [cells[day].get(r, "0.0%" if r in shared else "–") for r in SUMMARY_RATES]
        assert line == f"| {day} | {final} | " + " | ".join(want) + " |"
    assert summary_markdown(daily.slice(0, 0)) == "no rows"
