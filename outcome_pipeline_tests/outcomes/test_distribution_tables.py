"""The journey distribution tables on the fixture week (``fixture.py``), derived by hand.

as_of = 06-25 00:00 local, as in ``test_hand_computed``: every journey of D1..D3 has ended.
"""

from __future__ import annotations

import pytest

from outcome_pipeline.contracts.feeds import CHANNELS
from outcome_pipeline.outcomes import compute_outcomes
from outcome_pipeline.outcomes.distribution_tables import TTR_BUCKETS
from outcome_pipeline_tests.outcomes import fixture as fx

AS_OF = fx.lt("06-25 00:00")


@pytest.fixture(scope="module")
def out() -> dict:
    return compute_outcomes(fx.inputs(), fx.DAYS, AS_OF)


def _nonzero(table, column: str) -> dict[tuple, int]:
    keys = [c for c in table.column_names if c not in (column, "is_final", "as_of")][:3]
    return {tuple(r[k] for k in keys): r[column] for r in table.to_pylist() if r[column]}


def test_channel_switch_pairs(out) -> None:
    t = out["daily_channel_switches"]
    # Every ordered pair of two channels on every day: the spine keeps the zeros.
    assert t.num_rows == len(fx.DAYS) * len(CHANNELS) * (len(CHANNELS) - 1)
    # D1 Alice phone (A1) -> chat (A2); D2 the prospect web (P1) -> messaging (P2); D3 Eve
    # email (E1) -> phone (E2). Bob's transfer is one contact (legs collapsed): no switch.
    assert _nonzero(t, "channel_switches") == {
        (fx.D1, "phone", "chat"): 1,
        (fx.D2, "web", "messaging"): 1,
        (fx.D3, "email", "phone"): 1,
    }
    assert _nonzero(t, "journeys") == _nonzero(t, "channel_switches")
    # The pairs add up to the journeys' own count.
    journeys = sum(
        r["channel_switches"] for r in out["journeys"].to_pylist() if not r["is_anonymous"]
    )
    assert sum(t["channel_switches"].to_pylist()) == journeys == 3


def test_time_to_resolution_buckets(out) -> None:
    t = out["daily_time_to_resolution"]
    assert t.num_rows == len(fx.DAYS) * len(TTR_BUCKETS)
    # D1: Bob B1 23:50 -> the transfer leg ends ~00:21 (< 1 h); Alice A1 D1 09:00 -> A2 ends
    # D3 ~10:20 (~49 h). D2: the prospect P1 09:00 -> P2 ends ~18:17 (~9 h). Carol's chat
    # C2 (14:20, one contact, ~10 min) resolved too. D3: Eve's journey failed.
    assert _nonzero(t, "resolved_journeys") == {
        (fx.D1, "< 1 h", 1): 1,
        (fx.D1, "1-3 d", 4): 1,
        (fx.D2, "< 1 h", 1): 1,
        (fx.D2, "4-24 h", 3): 1,
    }
    daily = out["daily_outcomes"].to_pylist()
    for day in fx.DAYS:
        resolved = sum(r["resolved_journeys"] for r in daily if r["partition_date"] == day)
        bucketed = sum(r["resolved_journeys"] for r in t.to_pylist() if r["partition_date"] == day)
        assert bucketed == resolved


def test_churn_by_outcome(out) -> None:
    rows = {
        (r["partition_date"], r["journey_outcome"]): r
        for r in out["daily_churn_by_outcome"].to_pylist()
    }
    assert len(rows) == 2 * len(fx.DAYS)
    # D1 resolved: Alice (MRR 20 at A1) and Bob (100, churns involuntarily 06-20, 8 days
    # after B1 ended). D2 resolved: Carol (500) and the prospect (no CRM, no MRR). D3
    # unresolved: Eve (25, churns 06-20, within 30 days of E2 ending 06-14).
    r = rows[(fx.D1, "resolved")]
    assert (r["journeys_ended"], r["churned_30d"], r["churned_90d"]) == (2, 1, 1)
    assert (r["churn_30d_rate"], r["mrr_at_stake"], r["mrr_churned_90d"]) == (0.5, 120.0, 100.0)
    assert rows[(fx.D1, "unresolved")]["churn_30d_rate"] is None  # 0/0
    assert rows[(fx.D2, "resolved")]["mrr_at_stake"] == 500.0
    e = rows[(fx.D3, "unresolved")]
    assert (e["journeys_ended"], e["churned_90d"], e["mrr_churned_90d"]) == (1, 1, 25.0)
    # Not final: the churn windows of journeys ended around 06-14 are open at 06-25.
    assert not any(r["is_churn_30d_final"] for r in rows.values())
    # The two rows of a day add up to daily_outcomes.
    daily = out["daily_outcomes"].to_pylist()
    for day in fx.DAYS:
        mine = [r for (d, _), r in rows.items() if d == day]
        theirs = [r for r in daily if r["partition_date"] == day]
        for column in ("journeys_ended", "churned_30d", "churned_90d", "mrr_at_stake"):
            assert sum(r[column] for r in mine) == sum(r[column] for r in theirs), column
        unresolved = rows[(day, "unresolved")]["mrr_at_stake"]
        assert unresolved == sum(r["revenue_at_risk"] for r in theirs)
