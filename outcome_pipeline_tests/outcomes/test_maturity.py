"""Maturity and reproducibility: restatement, range = day-by-day, live flags, input window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from outcome_pipeline.outcomes import (
    OUTCOME_TABLES,
    OutcomeConfig,
    OutcomeInputs,
    compute_outcomes,
    input_window,
)
from outcome_pipeline.outcomes.maturity import churn_final_on, churn_pending, final_on_days
from outcome_pipeline_tests.outcomes import fixture as fx

AS_OF = fx.lt("06-25 00:00")


def windowed(inputs: OutcomeInputs, first: date, last: date, as_of: datetime) -> OutcomeInputs:
    """Only the staged days input_window says to read: proves the window is enough."""
    window = input_window(first, last, as_of, OutcomeConfig())
    parts = {}
    for name in ("interactions", "customers", "cases", "subscription_events", "survey_responses"):
        table: pa.Table = getattr(inputs, name)
        start, end = window.for_input(name)
        keep = pc.less_equal(table["partition_date"], pa.scalar(end, pa.date32()))
        if start is not None:
            keep = pc.and_(keep, pc.greater_equal(table["partition_date"], pa.scalar(start)))
        parts[name] = table.filter(keep)
    return OutcomeInputs(**parts)


def test_range_equals_day_by_day() -> None:
    inputs = fx.inputs()
    together = compute_outcomes(windowed(inputs, fx.D1, fx.D3, AS_OF), fx.DAYS, AS_OF)
    for name in OUTCOME_TABLES:
        alone = pa.concat_tables(
            compute_outcomes(windowed(inputs, d, d, AS_OF), [d], AS_OF)[name] for d in fx.DAYS
        )
        assert alone.num_rows > 0, name
        assert alone.to_pylist() == together[name].to_pylist(), name


def test_same_inputs_and_as_of_give_identical_rows() -> None:
    first = compute_outcomes(fx.inputs(), fx.DAYS, AS_OF)
    again = compute_outcomes(fx.inputs(), fx.DAYS, AS_OF)
    for name in OUTCOME_TABLES:
        assert first[name].equals(again[name]), name


# Fields of daily_outcomes allowed to change between D2 + 1 and D2 + 8: everything that waits
# for a window. Contacts, repeats, starts and the spine are known when the day ends.
MATURING = {
    "journeys_ended",
    "contacts_in_ended_journeys",
    "resolved_journeys",
    "resolution_rate",
    "failed_journeys",
    "fcr_journeys",
    "fcr_rate",
    "multichannel_journeys",
    "channel_switch_rate",
    "contacts_in_resolved_journeys",
    "contacts_per_resolution",
    "contacts_per_resolution_p90",
    "time_to_resolution_median_hours",
    "time_to_resolution_p90_hours",
    "effortless_resolutions",
    "effortless_resolution_rate",
    "customer_success_ratio",
    "churn_30d_rate",
    "churn_90d_rate",
    "mrr_at_stake",
    "revenue_kept",
    "resolved_claims",
    "false_resolutions",
    "false_resolution_rate",
    "is_final",
    "as_of",
}


def test_restatement_changes_only_maturing_fields_and_flips_is_final() -> None:
    early = compute_outcomes(fx.inputs(), [fx.D2], fx.lt("06-12 02:30"))
    late = compute_outcomes(fx.inputs(), [fx.D2], fx.lt("06-19 02:30"))
    before, after = early["daily_outcomes"].to_pylist(), late["daily_outcomes"].to_pylist()
    assert len(before) == len(after)
    changed = {k for b, a in zip(before, after, strict=True) for k in b if b[k] != a[k]}
    assert changed <= MATURING
    assert {"is_final", "resolved_journeys", "false_resolutions"} <= changed
    assert {r["is_final"] for r in before} == {False}
    assert {r["is_final"] for r in after} == {True}
    # Day 2 by hand: nothing had ended at 06-12 02:30 (rates NULL, not 0); by 06-19 02:30
    # Carol's and the prospect's journeys have (windows closed 06-18 14:20 and 18:00).
    assert (
        sum(r["journeys_started"] for r in before) == sum(r["journeys_started"] for r in after) == 2
    )
    assert sum(r["resolved_journeys"] for r in before) == 0
    assert {r["resolution_rate"] for r in before} == {None}
    assert sum(r["resolved_journeys"] for r in after) == 2
    # Claim-based counts are NULL in cells where no contact carries a claim.
    assert sum(r["false_resolutions"] or 0 for r in after) == 1  # P1, falsified by P2
    # Outputs need no window: only as_of differs.
    for b, a in zip(
        early["daily_outputs"].to_pylist(), late["daily_outputs"].to_pylist(), strict=True
    ):
        assert {k for k in b if b[k] != a[k]} == {"as_of"}
    jb = {r["journey_id"]: r for r in early["journeys"].to_pylist()}
    assert {r["is_ended"] for r in jb.values()} == {False}
    assert all(r["is_resolved"] is None for r in jb.values())


# Constant by construction: a configured threshold; one journey per customer and day (W >= 1).
CONSTANT_BY_DESIGN = {
    ("daily_outputs", "sl_threshold_seconds"),
    ("customer_outcomes", "journeys_started"),
}


def test_every_flag_and_count_column_takes_more_than_one_value() -> None:
    """No column may be stuck (the dbt_zendesk ``replies < 0`` pitfall)."""
    as_ofs = [fx.lt("06-11 02:30"), AS_OF, fx.lt("09-30 00:00")]
    runs = [compute_outcomes(fx.inputs(), fx.D4_DAYS, t) for t in as_ofs]
    stuck = []
    for name, table in OUTCOME_TABLES.items():
        data = pa.concat_tables(run[name] for run in runs)
        for column in table.columns:
            if column.type not in (pa.bool_(), pa.int64()):
                continue
            values = set(data[column.name].to_pylist()) - {None}
            if len(values) < 2 and (name, column.name) not in CONSTANT_BY_DESIGN:
                stuck.append(f"{name}.{column.name} = {values}")
    assert stuck == []


def test_input_window_and_as_of_guard() -> None:
    cfg = OutcomeConfig(repeat_window_days=7)
    as_of = datetime(2024, 6, 11, 1, 30, tzinfo=UTC)
    window = input_window(fx.D1, fx.D1, as_of, cfg)
    assert window == (date(2024, 6, 1), date(2024, 6, 11))
    assert window.for_input("customers") == (None, date(2024, 6, 11))
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_outcomes(fx.inputs(), fx.DAYS, datetime(2024, 6, 25))
    empty = compute_outcomes(fx.inputs(), [], AS_OF)
    assert all(t.num_rows == 0 for t in empty.values())


def _day_final(as_of_day: date) -> dict[date, bool]:
    as_of = datetime.combine(as_of_day + timedelta(days=1), datetime.min.time(), tzinfo=fx.TZ)
    daily = compute_outcomes(fx.inputs(), fx.DAYS, as_of)["daily_outcomes"]
    out: dict[date, bool] = {}
    for row in daily.select(["partition_date", "is_final"]).to_pylist():
        out[row["partition_date"]] = out.get(row["partition_date"], True) and row["is_final"]
    return out


def _final_on(as_of_day: date) -> dict[date, date]:
    as_of = datetime.combine(as_of_day + timedelta(days=1), datetime.min.time(), tzinfo=fx.TZ)
    journeys = compute_outcomes(fx.inputs(), fx.DAYS, as_of)["journeys"]
    return final_on_days(fx.DAYS, journeys, as_of_day, 7, "Europe/London")


def test_restating_each_day_on_its_final_on_day_makes_it_final_never_earlier() -> None:
    """What the nightly schedule does: restate a day on the load its metadata names; a
    contact seen in between pushes the date later; the day ends final, and not a day early."""
    first = _final_on(fx.D3 + timedelta(days=1))
    assert set(first) == set(fx.DAYS)  # nothing is final one day after D3
    assert all(f >= d + timedelta(days=7) for d, f in first.items())
    pushed = 0
    for day, f in first.items():
        for _ in range(5):
            if _day_final(f)[day]:
                break
            later = _final_on(f)[day]
            assert later > f, day
            f, pushed = later, pushed + 1
        assert _day_final(f)[day] is True, day
        assert _day_final(f - timedelta(days=1))[day] is False, day
        assert day not in _final_on(f)
    assert pushed > 0  # the fixture has journeys extended by later repeat contacts


def test_final_on_a_journey_closing_exactly_at_midnight_belongs_to_the_day_before() -> None:
    closes = datetime(2024, 6, 20, 0, 0, tzinfo=fx.TZ)  # end of 06-19, local
    journeys = pa.table(
        {
            "partition_date": pa.array([fx.D1], pa.date32()),
            "window_closes_at": pa.array([closes.astimezone(UTC)], pa.timestamp("us", "UTC")),
        }
    )
    assert final_on_days([fx.D1], journeys, fx.D1, 7, "Europe/London") == {fx.D1: date(2024, 6, 19)}
    assert final_on_days([fx.D2], journeys, fx.D2, 7, "Europe/London") == {
        fx.D2: date(2024, 6, 18)  # no journey: X + W
    }


def test_a_leg_whose_transfer_parent_is_missing_is_a_contact_in_context_too() -> None:
    """The parent leg was quarantined: the leg is a root contact wherever it is seen, so a
    day computed alone (the leg in its lookback context) equals the range run (the leg in its
    main zone). Regression: the context ignored every leg with a parent id, so day 06-14
    alone started a second journey for C9's repeat contact."""
    base = fx.inputs()
    extra = fx.staged(
        "interactions",
        [
            fx.leg(
                "ix-orphan",
                "phone",
                "billing",
                "care",
                "a1",
                "06-12 10:00",
                wait=5,
                talk=60,
                customer_id="C9",
                parent_interaction_id="ix-quarantined",
                disposition="resolved",
            ),
            fx.leg(
                "ix-repeat",
                "chat",
                "billing",
                "care",
                "a1",
                "06-14 11:00",
                wait=5,
                talk=60,
                customer_id="C9",
                disposition="resolved",
            ),
        ],
        "queued_at",
    )
    inputs = OutcomeInputs(
        **{
            **{f: getattr(base, f) for f in ("customers", "cases", "subscription_events")},
            "survey_responses": base.survey_responses,
            "interactions": pa.concat_tables([base.interactions, extra]),
        }
    )
    as_of = fx.lt("06-15 00:00")
    day = date(2024, 6, 14)
    both = compute_outcomes(windowed(inputs, date(2024, 6, 12), day, as_of), [fx.D3, day], as_of)
    alone = compute_outcomes(windowed(inputs, day, day, as_of), [day], as_of)
    pick = lambda t: t.filter(pc.equal(t["partition_date"], pa.scalar(day))).to_pylist()  # noqa: E731
    for name in OUTCOME_TABLES:
        assert pick(alone[name]) == pick(both[name]), name
    assert all(r["journey_id"] != "ix-repeat" for r in pick(alone["journeys"]))


def test_context_reduced_elsewhere_gives_the_same_tables() -> None:
    """What the asset does: the warehouse reduces the context zone (context_sql) and only the
    main zone's interactions are passed; the tables equal a run given every interaction."""
    import duckdb

    from outcome_pipeline.outcomes import CONTEXT_SCHEMA, context_sql, zones

    cfg = OutcomeConfig()
    inputs = windowed(fx.inputs(), fx.D2, fx.D3, AS_OF)
    z = zones([fx.D2, fx.D3], cfg)
    con = duckdb.connect()
    con.register("staged", inputs.interactions)
    context = con.sql(
        context_sql("staged", z, (date(2024, 6, 1), date(2024, 6, 30)))
    ).to_arrow_table()
    con.close()
    main = inputs.interactions.filter(
        pc.greater_equal(inputs.interactions["partition_date"], pa.scalar(z.margin_day))
    )
    assert context.num_rows > 0 and main.num_rows < inputs.interactions.num_rows
    reduced = OutcomeInputs(
        interactions=main,
        customers=inputs.customers,
        cases=inputs.cases,
        subscription_events=inputs.subscription_events,
        survey_responses=inputs.survey_responses,
        context=context.cast(CONTEXT_SCHEMA),
    )
    want = compute_outcomes(inputs, [fx.D2, fx.D3], AS_OF)
    got = compute_outcomes(reduced, [fx.D2, fx.D3], AS_OF)
    for name in OUTCOME_TABLES:
        assert got[name].to_pylist() == want[name].to_pylist(), name


def _daily_flags(as_of_day: date, column: str) -> dict[date, bool]:
    as_of = datetime.combine(as_of_day + timedelta(days=1), datetime.min.time(), tzinfo=fx.TZ)
    daily = compute_outcomes(fx.inputs(), fx.DAYS, as_of)["daily_outcomes"]
    out: dict[date, bool] = {}
    for row in daily.select(["partition_date", column]).to_pylist():
        out[row["partition_date"]] = out.get(row["partition_date"], True) and row[column]
    return out


def test_churn_flags_flip_exactly_on_the_day_churn_final_on_names() -> None:
    """The SQL's is_churn_*_final and churn_final_on agree: false the day before, true on it."""
    as_of = datetime.combine(date(2024, 8, 1), datetime.min.time(), tzinfo=fx.TZ)
    journeys = compute_outcomes(fx.inputs(), fx.DAYS, as_of)["journeys"]  # every day final
    churn_on = churn_final_on(fx.DAYS, journeys, OutcomeConfig())
    assert set(churn_on) == set(fx.DAYS)
    for index, column in enumerate(("is_churn_30d_final", "is_churn_90d_final")):
        for on in sorted({dates[index] for dates in churn_on.values()}):
            before, at = _daily_flags(on - timedelta(days=1), column), _daily_flags(on, column)
            for day, dates in churn_on.items():
                if dates[index] == on:
                    assert before[day] is False and at[day] is True, (day, column)
    # D1's last journey ends 06-18 14:20 (Carol's repeat): + 30 d is 07-18 14:20, + 90 d 09-16.
    assert churn_on[fx.D1][0] > fx.D1 + timedelta(days=30)
    assert churn_pending(churn_on, churn_on[fx.D1][0]) == {
        d: [f for f in dates if f > churn_on[fx.D1][0]]
        for d, dates in churn_on.items()
        if max(dates) > churn_on[fx.D1][0]
    }


def _journeys(rows: list[tuple[date, datetime, datetime]]) -> pa.Table:
    """partition_date, last contact end, window close (local instants, stored as UTC)."""
    ts = pa.timestamp("us", "UTC")
    return pa.table(
        {
            "partition_date": pa.array([r[0] for r in rows], pa.date32()),
            "last_contact_ended_at": pa.array([r[1].astimezone(UTC) for r in rows], ts),
            "window_closes_at": pa.array([r[2].astimezone(UTC) for r in rows], ts),
        }
    )


def test_churn_final_on_by_hand_with_the_configured_windows() -> None:
    day, quiet = date(2024, 6, 10), date(2024, 6, 11)
    ended = datetime(2024, 6, 12, 15, 0, tzinfo=fx.TZ)  # last contact ended 06-12 15:00
    journeys = _journeys([(day, ended, datetime(2024, 6, 19, 14, 0, tzinfo=fx.TZ))])
    assert churn_final_on([day, quiet], journeys, OutcomeConfig()) == {
        day: (date(2024, 7, 12), date(2024, 9, 10)),  # 15:00 on those days: their ends reach it
        quiet: (date(2024, 7, 11), date(2024, 9, 9)),  # no journey: the day's end + 30 / 90 d
    }
    short = OutcomeConfig(churn_short_days=10, churn_long_days=20)
    assert churn_final_on([day], journeys, short) == {day: (date(2024, 6, 22), date(2024, 7, 2))}
    # Never before the day is final: a window shorter than the journey's close waits for it.
    late_close = _journeys([(day, ended, datetime(2024, 7, 20, 9, 0, tzinfo=fx.TZ))])
    assert churn_final_on([day], late_close, OutcomeConfig())[day][0] == date(2024, 7, 20)


def test_windows_across_spring_forward_close_a_business_day_later() -> None:
    """W and the churn windows are 24 h days added to instants (the SQL's rule): across the
    night clocks go forward, the day's end + 7 x 24 h is 01:00 on X + 8."""
    day = date(2024, 3, 25)  # Europe/London springs forward on 2024-03-31
    empty = _journeys([])
    assert final_on_days([day], empty, day, 7, "Europe/London") == {day: date(2024, 4, 2)}
    assert churn_final_on([day], empty, OutcomeConfig()) == {
        day: (date(2024, 4, 25), date(2024, 6, 24))
    }
    autumn = date(2024, 10, 21)  # back on 10-27: 7 x 24 h ends at 23:00 on X + 7
    assert final_on_days([autumn], empty, autumn, 7, "Europe/London") == {
        autumn: date(2024, 10, 28)
    }
    # The SQL agrees: the fixture's D1 computed at the end of 04-01 vs 04-02, shifted to March.
    assert _is_final_at(day, date(2024, 4, 1)) is False
    assert _is_final_at(day, date(2024, 4, 2)) is True


def _is_final_at(day: date, as_of_day: date) -> bool:
    """is_final of a day with no contacts (its spine row), computed at the end of as_of_day."""
    as_of = datetime.combine(as_of_day + timedelta(days=1), datetime.min.time(), tzinfo=fx.TZ)
    daily = compute_outcomes(fx.inputs(), [day], as_of)["daily_outcomes"]
    return all(r["is_final"] for r in daily.select(["is_final"]).to_pylist())
