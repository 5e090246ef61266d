"""The report's SQL on the fixture week (``outcomes/fixture.py``), figures derived by hand, on
DuckDB and on PostgreSQL (``fixture_warehouse``)."""

from __future__ import annotations

import math
import re

import pytest

from outcome_pipeline.outcomes import OUTCOME_TABLES
from outcome_pipeline.report import CHARTS, SUMMARY, read_rows
from outcome_pipeline.report.page import fmt
from outcome_pipeline.report.spec import chart_sql
from outcome_pipeline_tests.outcomes import fixture as fx
from outcome_pipeline_tests.report.conftest import AUDIT, REJECTS

# Tables the report may read: daily tables, the load audit, and the reason codes of the
# quarantine tables (never the journeys, contacts, customers or staged rows).
READABLE = {n for n in OUTCOME_TABLES if n.startswith("daily_")} | {"load_audit"}


def by(rows: list[dict], *keys: str) -> dict:
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in rows}


def test_the_charts_read_only_daily_tables() -> None:
    for chart in (SUMMARY, *CHARTS):
        sql = chart_sql(chart, lambda t: f"<{t}>")
        read = set(re.findall(r"<([a-z_]+)>", sql))
        quarantine = {t for t in read if t.startswith("quarantine_")}
        assert read - quarantine <= READABLE, chart.id
        assert set(chart.tables) == read, chart.id  # every table read is linked, and only those
        if quarantine:  # only the reason codes of the rejected rows
            assert "raw_record" not in sql and "record_key" not in sql
        assert len({c.name for c in chart.columns}) == len(chart.columns)
    assert len({c.id for c in CHARTS}) == len(CHARTS)


@pytest.fixture
def rows(fixture_warehouse) -> dict[str, list[dict]]:
    wh, _ = fixture_warehouse
    return read_rows(wh, fx.D1, fx.D3)


def test_outputs_vs_outcomes_by_team_and_agent(rows) -> None:
    teams = by(rows["teams_outputs_vs_outcomes"], "team")
    # Handled legs by the leg's team. express: A1 (X1, 330 s), B1 (X2, 850), D1 (X2, 630),
    # N1 (X2, 180), C2 (X1, 570), P1 (X1, 500): 6 legs, 3060 s. care_plus: B1's transfer
    # (Z1, 1020), P2 (Z1, 740), A2 (Z1, 1200), E1 (Z1, 720): 4 legs, 3680 s.
    # Judged by the final leg's agent: express A1 (followed by A2), D1 (never followed),
    # C2 (not followed), P1 (followed by P2): 2 of 4 confirmed; claims "resolved" A1, C2, P1
    # of which A1 and P1 were followed: 2/3 false. care_plus B1 (Bob back after 8.5 days:
    # confirmed), P2, A2 (confirmed), E1 (followed by E2): 3 of 4; claims P2, A2: none false.
    e, c = teams["express"], teams["care_plus"]
    assert (e["legs_handled"], e["aht_seconds"], e["real_resolution_rate"]) == (6, 510.0, 0.5)
    assert math.isclose(e["false_resolution_rate"], 2 / 3)
    assert (c["legs_handled"], c["aht_seconds"], c["real_resolution_rate"]) == (4, 920.0, 0.75)
    assert c["false_resolution_rate"] == 0.0
    assert [r["team"] for r in rows["teams_outputs_vs_outcomes"]] == ["express", "care_plus"]
    agents = by(rows["agents_outputs_vs_outcomes"], "agent_id")
    # X2 handled B1, D1, N1 (850 + 630 + 180) but claimed nothing resolved: no false rate.
    assert agents["X2"]["legs_handled"] == 3 and agents["X2"]["false_resolution_rate"] is None
    assert sum(a["legs_handled"] for a in agents.values()) == 10


def test_daily_trends_mark_provisional_churn(rows) -> None:
    days = by(rows["daily_trends"], "partition_date")
    assert list(days) == fx.DAYS
    d1 = days[fx.D1]
    # D1 journeys: Alice (2 contacts) and Bob (1, resolved): FCR 1/2. Contacts A1, B1, D1
    # (Dan's repeats his 06-07 call): repeat rate 1/3. Bob churns 06-20: 1/2 within 30 days.
    assert (d1["fcr_rate"], d1["churn_30d_rate"]) == (0.5, 0.5)
    assert math.isclose(d1["repeat_contact_rate"], 1 / 3)
    # Every journey has ended (final), the churn windows have not (provisional).
    assert all(d["is_final"] and not d["is_churn_30d_final"] for d in days.values())
    # NPS D1: S2 (3, detractor) on Bob's case: -100. D2: S8 (9) on C2: +100. CES D2: Carol
    # 6 and the prospect 3: mean 4.5. No CES on D1: NULL, never 0.
    assert (d1["nps"], days[fx.D2]["nps"], days[fx.D2]["ces_mean"]) == (-100.0, 100.0, 4.5)
    assert d1["ces_mean"] is None


def test_journey_charts(rows) -> None:
    cpr = by(rows["contacts_per_resolution"], "partition_date")
    # D1 Alice 2 + Bob 1 contacts in 2 resolutions; D2 Carol 2 + the prospect 2 in 2; D3 none.
    assert [cpr[d]["contacts_per_resolution"] for d in fx.DAYS] == [1.5, 2.0, None]
    switches = by(rows["channel_switches"], "from_channel", "to_channel")
    assert {k: r["channel_switches"] for k, r in switches.items()} == {
        ("email", "phone"): 1,
        ("phone", "chat"): 1,
        ("web", "messaging"): 1,
    }
    ttr = {r["bucket"]: r["resolved_journeys"] for r in rows["time_to_resolution"]}
    assert ttr == {
        "< 1 h": 2,  # Bob (~31 min), Carol (~30 min)
        "1-4 h": 0,
        "4-24 h": 1,  # the prospect (~9 h)
        "1-3 d": 1,  # Alice (~49 h)
        "3-7 d": 0,
        "7-14 d": 0,
        ">= 14 d": 0,
    }


def test_churn_resolved_vs_unresolved(rows) -> None:
    churn = by(rows["churn_after_contact"], "journey_outcome")
    r, u = churn["resolved"], churn["unresolved"]
    # Resolved: Alice (MRR 20), Bob (100, churned), Carol (500), the prospect (no CRM).
    assert (r["journeys_ended"], r["churned_30d"], r["churn_30d_rate"]) == (4, 1, 0.25)
    assert (r["mrr_at_stake"], r["mrr_churned_90d"]) == (620.0, 100.0)
    # Unresolved: Eve (25), churned 06-20: the revenue at risk is hers.
    assert (u["journeys_ended"], u["churn_90d_rate"], u["mrr_at_stake"]) == (1, 1.0, 25.0)
    assert not r["is_churn_90d_final"]


def test_data_quality(rows) -> None:
    audit = by(rows["data_quality"], "feed", "partition_date")
    assert {
        k: (v["rows_staged"], v["rows_quarantined"], v["rows_late"]) for k, v in audit.items()
    } == AUDIT
    reasons = by(rows["quarantine_reasons"], "feed", "partition_date", "reason_code")
    assert {k: v["rows_quarantined"] for k, v in reasons.items()} == {
        (f, d, reason): sum(1 for r in REJECTS if r == (f, d, reason)) for f, d, reason in REJECTS
    }


def test_an_empty_range_has_no_rows_and_no_error(fixture_warehouse) -> None:
    wh, _ = fixture_warehouse
    got = read_rows(wh, fx.D3.replace(year=2030), fx.D3.replace(year=2030))
    assert got["time_to_resolution"] == [] and got["teams_outputs_vs_outcomes"] == []


def test_formats() -> None:
    assert (fmt(None, "pct"), fmt(0.25, "pct"), fmt(1234, "int"), fmt(510.0, "seconds")) == (
        "–",
        "25.0%",
        "1,234",
        "510 s",
    )


def test_summary_at_a_glance(rows) -> None:
    (s,) = rows["summary"]
    # Journeys ended D1..D3: Alice, Bob, Carol, the prospect, Eve; resolved all but Eve's;
    # FCR only Bob's. Contacts 3 + 4 + 2 of which Dan's D1, C2, P2 and A2 repeat: 4/9.
    # "resolved" claims with closed windows A1, C2, P1, P2, A2; A1 and P1 were followed: 2/5.
    # CSAT: 5 (Alice, S1) and 2 (Eve, S4): 1/2. Revenue at risk: Eve's MRR 25.
    assert (s["journeys_ended"], s["fcr_rate"], s["resolution_rate"]) == (5, 0.2, 0.8)
    assert math.isclose(s["repeat_contact_rate"], 4 / 9)
    assert (s["false_resolution_rate"], s["csat_rate"], s["revenue_at_risk"]) == (0.4, 0.5, 25.0)
    assert s["provisional_days"] == 0
