"""Every outcome of the fixture week (``fixture.py``), derived by hand in the comments.

as_of = 06-25 00:00 local: every journey started D1..D3 has ended (the last one, Eve's,
closes 06-14 16:00 + 7 d = 06-21 16:00), the churn windows have not.
"""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from outcome_pipeline.outcomes import OUTCOME_TABLES, compute_outcomes
from outcome_pipeline_tests.outcomes import fixture as fx

AS_OF = fx.lt("06-25 00:00")


@pytest.fixture(scope="module")
def out() -> dict:
    return compute_outcomes(fx.inputs(), fx.DAYS, AS_OF)


def rows(table, **where) -> list[dict]:
    return [r for r in table.to_pylist() if all(r[k] == v for k, v in where.items())]


def one(table, **where) -> dict:
    found = rows(table, **where)
    assert len(found) == 1, (where, found)
    return found[0]


def day_sum(table, day, column) -> float:
    return sum(r[column] or 0 for r in rows(table, partition_date=day))


def test_tables_have_their_definitions_columns_and_only_the_days(out) -> None:
    for name, table in OUTCOME_TABLES.items():
        assert out[name].schema == table.arrow_schema
        assert set(out[name]["partition_date"].to_pylist()) <= set(fx.DAYS)


def test_journeys(out) -> None:
    j = {r["journey_id"]: r for r in out["journeys"].to_pylist()}
    # D1: Alice (A1, A2), Bob (B1), two anonymous callers. D2: Carol, the prospect. D3: Eve.
    # Dan's D1 contact repeats his 06-07 contact: his journey started before D1.
    # Bob's 06-19 email is 8.5 days after B1: a new journey, on a day not computed.
    assert sorted(j) == ["ix-a1", "ix-b1", "ix-c1", "ix-e1", "ix-n1", "ix-n2", "ix-p1"]
    a = j["ix-a1"]
    # A2 (chat, 06-12 10:00) is 49 h after A1 (phone): same journey, one channel switch; the
    # later delivery of A1 says "resolved": a false claim. A2 resolved, nothing follows.
    assert (a["partition_date"], a["customer_key"], a["contacts"], a["channels"]) == (
        fx.D1,
        "C1",
        2,
        2,
    )
    assert (a["channel_switches"], a["false_resolution_claims"]) == (1, 1)
    assert (a["is_resolved"], a["is_first_contact_resolved"], a["is_ended"]) == (True, False, True)
    # 06-10 09:00 -> A2 ends 10:00:30 + 1100 s = 06-12 10:18:50: 49 h 18 min 50 s.
    assert a["time_to_resolution_hours"] == pytest.approx(49 + 18 / 60 + 50 / 3600)
    assert (a["segment"], a["mrr_at_stake"]) == ("consumer", 20.0)  # MRR 40 only from 06-11
    assert (a["csat_score"], a["survey_responses"]) == (5, 1)  # S1 via ix-a2; S5 not linked
    assert (a["is_churned_within_30d"], a["is_churned_within_90d"]) == (False, False)
    b = j["ix-b1"]
    # Bob by phone "07700 900002" = CRM "07700 900002": C2. Transfer: 1 contact of 2 legs,
    # crossing midnight (23:50 -> 00:20:40), on D1. follow_up, but case K2 solved 06-12.
    assert (b["customer_key"], b["contacts"], b["last_disposition"]) == ("C2", 1, "follow_up")
    assert (b["is_last_case_closed"], b["is_resolved"], b["is_first_contact_resolved"]) == (
        True,
    ) * 3
    assert b["time_to_resolution_hours"] == pytest.approx((30 * 60 + 40) / 3600)
    assert (b["nps_score"], b["segment"], b["mrr_at_stake"]) == (3, "smb", 100.0)  # S2 by case
    # C2 churns (involuntary) 06-20 11:00, 9.4 days after B1 ended: after a resolved journey.
    assert (b["is_churned_within_30d"], b["churn_type"]) == (True, "involuntary")
    c = j["ix-c1"]
    # Carol abandoned a chat at 14:00 and came back at 14:20: a repeat in the same channel.
    assert (c["customer_key"], c["contacts"], c["channels"], c["first_team"]) == (
        "C3",
        2,
        1,
        "unassigned",
    )
    assert (c["is_resolved"], c["ces_score"], c["nps_score"]) == (True, 6, 9)  # S3 by email, S8
    assert c["time_to_resolution_hours"] == pytest.approx((29 * 60 + 25) / 3600)
    p = j["ix-p1"]
    # The prospect (two spellings of one phone): pseudonymous key, web then messaging.
    assert p["customer_key"].startswith("pk_") and p["segment"] == "unknown"
    assert (p["contacts"], p["false_resolution_claims"], p["is_resolved"]) == (2, 1, True)
    assert (p["ces_score"], p["survey_responses"]) == (3, 1)  # S7 came after the window
    assert p["mrr_at_stake"] is None
    e = j["ix-e1"]
    # Eve: email D3, phone 06-14 (the journey spans partitions), last said "unresolved".
    assert (e["contacts"], e["is_resolved"], e["last_contact_at"]) == (
        2,
        False,
        fx.lt("06-14 16:00"),
    )
    assert (e["is_churned_within_30d"], e["churn_type"], e["csat_score"]) == (True, "voluntary", 2)
    assert (e["is_churn_30d_final"], e["is_churn_90d_final"]) == (False, False)
    for anon in ("ix-n1", "ix-n2"):  # "withheld", "unknown", "0000000000" join nobody
        assert (j[anon]["is_anonymous"], j[anon]["customer_key"], j[anon]["is_resolved"]) == (
            True,
            None,
            None,
        )


def test_journey_contacts(out) -> None:
    jc = out["journey_contacts"]
    assert jc.num_rows == 11  # 2 + 1 + 1 + 1 + 2 + 2 + 2
    b1 = one(jc, contact_id="ix-b1")
    assert (b1["legs"], b1["team"], b1["agent_id"], b1["agent_team"]) == (
        2,
        "express",
        "Z1",
        "care_plus",
    )
    assert (b1["match_rule"], b1["is_case_closed_in_window"], b1["is_really_resolved"]) == (
        "crm_phone",
        True,
        True,
    )
    a1 = one(jc, contact_id="ix-a1")
    assert (a1["disposition"], a1["is_followed_within_window"], a1["is_really_resolved"]) == (
        "resolved",
        True,
        False,
    )
    assert one(jc, contact_id="ix-a2")["is_repeat"] is True
    assert one(jc, contact_id="ix-c1")["match_rule"] == "crm_email"
    assert one(jc, contact_id="ix-p2")["match_rule"] == "hashed_phone"


def test_daily_outcomes_by_day(out) -> None:
    d = out["daily_outcomes"]
    s = {day: {c: day_sum(d, day, c) for c in d.column_names[5:-4]} for day in fx.DAYS}
    # D1: journeys A (2 contacts, resolved) and B (1, resolved via case = FCR, effortless).
    assert {
        k: s[fx.D1][k]
        for k in (
            "journeys_started",
            "journeys_ended",
            "resolved_journeys",
            "fcr_journeys",
            "effortless_resolutions",
            "multichannel_journeys",
            "contacts_in_ended_journeys",
        )
    } == {
        "journeys_started": 2,
        "journeys_ended": 2,
        "resolved_journeys": 2,
        "fcr_journeys": 1,
        "effortless_resolutions": 1,
        "multichannel_journeys": 1,
        "contacts_in_ended_journeys": 3,
    }
    # D1 contacts by their own day: A1, B1, Dan (a repeat); N1 and N2 are anonymous; one
    # claim whose window closed (A1), falsified by A2.
    assert (s[fx.D1]["contacts"], s[fx.D1]["repeat_contacts"], s[fx.D1]["anonymous_contacts"]) == (
        3,
        1,
        2,
    )
    assert (s[fx.D1]["resolved_claims"], s[fx.D1]["false_resolutions"]) == (1, 1)
    # Surveys: S1 CSAT 5 (satisfied) on A, S2 NPS 3 (detractor) on B.
    assert (s[fx.D1]["csat_responses"], s[fx.D1]["csat_satisfied"]) == (1, 1)
    assert (s[fx.D1]["nps_responses"], s[fx.D1]["nps_detractors"]) == (1, 1)
    # B churned (involuntary) although resolved: MRR kept = A's 20 only.
    assert (s[fx.D1]["churned_30d_involuntary"], s[fx.D1]["revenue_kept"]) == (1, 20)
    # D2: Carol (2 contacts, resolved) and the prospect (2, resolved): 4 contacts, 2 resolved.
    assert (s[fx.D2]["resolved_journeys"], s[fx.D2]["contacts_in_resolved_journeys"]) == (2, 4)
    # contacts C1, C2, P1, P2 (B1's second leg belongs to B1's D1 contact); C2 and P2 repeat;
    # claims C2, P1, P2; P1 falsified by P2. CES 6 (easy) and 3.
    assert (s[fx.D2]["contacts"], s[fx.D2]["repeat_contacts"]) == (4, 2)
    assert (s[fx.D2]["resolved_claims"], s[fx.D2]["false_resolutions"]) == (3, 1)
    assert (s[fx.D2]["ces_responses"], s[fx.D2]["ces_easy"], s[fx.D2]["ces_score_sum"]) == (2, 1, 9)
    assert (s[fx.D2]["nps_responses"], s[fx.D2]["nps_promoters"]) == (1, 1)  # S8
    # D3: Eve's failed journey, churned voluntarily: 25 MRR at risk; A2 claim holds.
    assert (s[fx.D3]["failed_journeys"], s[fx.D3]["churned_90d_after_failed"]) == (1, 1)
    assert (s[fx.D3]["churned_30d_voluntary"], s[fx.D3]["revenue_at_risk"]) == (1, 25)
    assert (s[fx.D3]["contacts"], s[fx.D3]["repeat_contacts"], s[fx.D3]["resolved_claims"]) == (
        2,
        1,
        1,
    )
    assert {r["is_final"] for r in d.to_pylist()} == {True}
    assert {r["is_churn_30d_final"] for r in d.to_pylist()} == {False}


def test_daily_outcomes_cells(out) -> None:
    d = out["daily_outcomes"]
    a = one(
        d,
        partition_date=fx.D1,
        channel="phone",
        queue="billing",
        team="express",
        segment="consumer",
    )
    # Alice's journey alone: resolved after 2 contacts; her A1 claim was false.
    assert (a["resolution_rate"], a["fcr_rate"], a["contacts_per_resolution"]) == (1.0, 0.0, 2.0)
    assert (a["customer_success_ratio"], a["false_resolution_rate"], a["csat_rate"]) == (
        0.5,
        1.0,
        1.0,
    )
    assert a["time_to_resolution_median_hours"] == pytest.approx(49 + 18 / 60 + 50 / 3600)
    p = one(
        d, partition_date=fx.D2, channel="web", queue="general", team="express", segment="unknown"
    )
    assert (p["journeys_started"], p["channel_switch_rate"], p["contacts_per_resolution_p90"]) == (
        1,
        1.0,
        2.0,
    )
    assert p["time_to_resolution_p90_hours"] == pytest.approx(9 + 16 / 60 + 40 / 3600)
    b = one(
        d, partition_date=fx.D1, channel="phone", queue="billing", team="express", segment="smb"
    )
    assert (b["nps"], b["effortless_resolution_rate"], b["churn_30d_rate"]) == (-100.0, 1.0, 1.0)
    e = one(
        d,
        partition_date=fx.D3,
        channel="email",
        queue="billing",
        team="care_plus",
        segment="consumer",
    )
    assert (e["resolution_rate"], e["churn_90d_rate_after_failed"], e["csat_mean"]) == (
        0.0,
        1.0,
        2.0,
    )
    # Nobody used social: every day still has its social rows, with zeros and NULL rates.
    social = rows(d, channel="social")
    assert social and {r["partition_date"] for r in social} == set(fx.DAYS)
    assert all(r["journeys_started"] == 0 and r["contacts"] == 0 for r in social)
    assert all(r["resolution_rate"] is None and r["repeat_contact_rate"] is None for r in social)


def test_daily_outputs(out) -> None:
    o = out["daily_outputs"]
    # D1 legs: A1 (wait 10), B1 leg 1 (5, transferred), Dan (25: misses 20 s), N1 (4),
    # N2 abandoned after 3 s: out of the service-level denominator.
    totals = {
        c: day_sum(o, fx.D1, c)
        for c in (
            "legs_offered",
            "legs_handled",
            "legs_abandoned",
            "sl_legs_answered_within_threshold",
            "sl_legs_offered_excl_short_abandons",
            "legs_transferred",
            "asa_wait_seconds_sum",
            "handle_seconds_sum",
        )
    }
    assert totals == {
        "legs_offered": 5,
        "legs_handled": 4,
        "legs_abandoned": 1,
        "sl_legs_answered_within_threshold": 3,
        "sl_legs_offered_excl_short_abandons": 4,
        "legs_transferred": 1,
        "asa_wait_seconds_sum": 44,
        "handle_seconds_sum": 330 + 850 + 630 + 180,
    }
    n2 = one(
        o,
        partition_date=fx.D1,
        channel="chat",
        queue="general",
        team="unassigned",
        segment="unknown",
    )
    assert (n2["abandon_rate"], n2["service_level_answered_excl_short_abandons"]) == (1.0, None)
    b1 = one(
        o, partition_date=fx.D1, channel="phone", queue="billing", team="express", segment="smb"
    )
    assert (b1["transfer_rate"], b1["aht_seconds"], b1["asa_seconds"]) == (1.0, 850.0, 5.0)
    # D2: Carol's 180 s abandon stays in the denominator; P1 answered at exactly 20 s.
    assert day_sum(o, fx.D2, "sl_legs_answered_within_threshold") == 2  # C2 (15 s), P1 (20 s)
    assert day_sum(o, fx.D2, "sl_legs_offered_excl_short_abandons") == 4  # B1 leg 2, C1, C2, P1
    msg = one(
        o,
        partition_date=fx.D2,
        channel="messaging",
        queue="general",
        team="care_plus",
        segment="unknown",
    )
    assert (
        msg["frt_mean_seconds"],
        msg["frt_median_seconds"],
        msg["sl_legs_offered_excl_short_abandons"],
    ) == (300.0, 300.0, 0)
    email = one(
        o,
        partition_date=fx.D3,
        channel="email",
        queue="billing",
        team="care_plus",
        segment="consumer",
    )
    assert (email["frt_mean_seconds"], email["aht_seconds"]) == (4 * 3600.0, 720.0)
    assert all(r["is_final"] for r in o.to_pylist())


def test_output_vs_outcome(out) -> None:
    v = out["daily_agent_output_vs_outcome"]
    x1 = one(v, partition_date=fx.D1, agent_id="X1")
    z1 = one(v, partition_date=fx.D1, agent_id="Z1")
    x2 = one(v, partition_date=fx.D1, agent_id="X2")
    # X1: fastest (AHT 330), claimed A1 resolved, Alice came back: resolution 0.
    assert (x1["aht_rank"], x1["claimed_resolution_rate"], x1["real_resolution_rate"]) == (
        1,
        1.0,
        0.0,
    )
    assert (x1["false_resolution_rate"], x1["resolution_gap"]) == (1.0, 1.0)
    # X2 handled B1 leg 1, Dan, N1 (AHT 1660 / 3); dispositioned Dan only: "unresolved",
    # yet Dan never came back: really resolved (the claim understates it).
    assert (x2["legs_handled"], x2["dispositioned_contacts"], x2["aht_rank"]) == (3, 1, 2)
    assert (x2["real_resolution_rate"], x2["resolution_gap"], x2["real_resolution_rank"]) == (
        1.0,
        -1.0,
        1,
    )
    # Z1 handled no D1 leg (B1's second leg is queued on D2) but dispositioned B1 (case closed).
    assert (z1["legs_handled"], z1["aht_seconds"], z1["aht_rank"]) == (0, None, None)
    assert (z1["really_resolved_contacts"], z1["real_resolution_rank"], z1["resolution_gap"]) == (
        1,
        1,
        -1.0,
    )
    x1_d2 = one(v, partition_date=fx.D2, agent_id="X1")  # C2 held, P1 falsified
    assert (
        x1_d2["resolved_claims"],
        x1_d2["false_resolutions"],
        x1_d2["real_resolution_rate"],
    ) == (2, 1, 0.5)


def test_customer_outcomes(out) -> None:
    co = out["customer_outcomes"]
    assert co.num_rows == 5  # C1, C2 on D1; C3, the prospect on D2; C5 on D3
    carol = one(co, customer_key="C3")
    assert (carol["time_to_value_days"], carol["last_outcome"], carol["resolved_share"]) == (
        3.0,
        "resolved",
        1.0,
    )
    eve = one(co, customer_key="C5")
    assert (eve["last_outcome"], eve["is_churned_within_30d"], eve["mrr_at_stake"]) == (
        "unresolved",
        True,
        25.0,
    )


def test_a_redelivered_survey_response_counts_once_with_its_latest_version() -> None:
    """S1 (CSAT 5 on A2) delivered again the next day with score 3 and a later updated_at:
    journey A has one response, scored 3. The other responses are untouched (S2's NPS 3 on
    Bob's journey: only re-delivered ids are re-ranked)."""
    inputs = fx.inputs()
    surveys = inputs.survey_responses
    s1 = surveys.filter(pc.equal(surveys["response_id"], "S1")).to_pylist()[0]
    again = dict(
        s1,
        score=3,
        partition_date=s1["partition_date"] + (fx.D2 - fx.D1),
        updated_at=s1["updated_at"] + (fx.D2 - fx.D1),
        source_file="fixture/survey_responses_redelivered.csv",
    )
    redelivered = pa.concat_tables([surveys, pa.Table.from_pylist([again], surveys.schema)])
    out = compute_outcomes(replace(inputs, survey_responses=redelivered), fx.DAYS, AS_OF)
    a = one(out["journeys"], journey_id="ix-a1")
    assert (a["csat_score"], a["survey_responses"]) == (3, 1)
    b = one(out["journeys"], journey_id="ix-b1")
    assert (b["nps_score"], b["survey_responses"]) == (3, 1)
