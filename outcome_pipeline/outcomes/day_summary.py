"""Key figures per day of a run's daily_outcomes rows, for the run's metadata. Pure.

A rate is re-derived from its summed parts (``RATES``: numerator and denominator columns),
never averaged over rows: a day's rows are per segment and channel.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from outcome_pipeline.outcomes.tables import RATES

SUMMARY_RATES = (
    "resolution_rate",
    "fcr_rate",
    "repeat_contact_rate",
    "false_resolution_rate",
    "csat_rate",
    "churn_30d_rate",
)


def rows_per_day(table: pa.Table) -> dict[date, int]:
    """Rows of an outcome table per partition_date."""
    counts = table.group_by("partition_date").aggregate([("partition_date", "count")])
    return dict(
        zip(
            counts["partition_date"].to_pylist(),
            counts["partition_date_count"].to_pylist(),
            strict=True,
        )
    )


def rates_by_day(
    daily: pa.Table, rates: tuple[str, ...] = SUMMARY_RATES
) -> dict[date, tuple[bool, dict[str, float | None]]]:
    """partition_date -> (every row final, {rate: sum(numerator) / sum(denominator), None
    when the denominator sums to 0}) over ``daily`` (daily_outcomes rows)."""
    parts = {r: RATES["daily_outcomes"][r] for r in rates}
    needed = sorted({c for pair in parts.values() for c in pair})
    sums: dict[date, dict[str, float]] = {}
    final: dict[date, bool] = {}
    for row in daily.select(["partition_date", "is_final", *needed]).to_pylist():
        day = row["partition_date"]
        acc = sums.setdefault(day, {})
        final[day] = final.get(day, True) and bool(row["is_final"])
        for c in needed:
            acc[c] = acc.get(c, 0) + (row[c] or 0)
    return {
        day: (
            final[day],
            {r: acc[num] / acc[den] if acc[den] else None for r, (num, den) in parts.items()},
        )
        for day, acc in sorted(sums.items())
    }


def summary_markdown(daily: pa.Table) -> str:
    """:func:`rates_by_day` as a markdown table (a rate without a denominator is "–")."""
    if daily.num_rows == 0:
        return "no rows"
    lines = [
        "| day | final | " + " | ".join(SUMMARY_RATES) + " |",
        "|---|---|" + "---:|" * len(SUMMARY_RATES),
    ]
    for day, (is_final, values) in rates_by_day(daily).items():
        cells = ["–" if v is None else f"{v:.1%}" for v in values.values()]
        lines.append(f"| {day} | {'yes' if is_final else 'no'} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
