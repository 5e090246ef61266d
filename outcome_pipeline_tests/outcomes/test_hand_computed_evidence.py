"""Day D4 of the fixture week (``fixture.py``): what real logs lack, derived by hand.

No D4 contact carries a disposition or a case, except Ivy's, who keeps calling past the
journey horizon (H = 30 days). as_of = 08-01 00:00 local: every journey of D1-D4 has ended
(Ivy's last in-span contact, 07-13 08:00, closes 07-20 08:00); the 30-day churn windows of
D1-D3 have closed, the 90-day ones have not.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from outcome_pipeline.outcomes import OutcomeConfig, compute_outcomes
from outcome_pipeline_tests.outcomes import fixture as fx
from outcome_pipeline_tests.outcomes.test_hand_computed import day_sum, one, rows

AS_OF = fx.lt("08-01 00:00")


@pytest.fixture(scope="module")
def out() -> dict:
    return compute_outcomes(fx.inputs(), fx.D4_DAYS, AS_OF)


def test_unknown_claims_are_not_failures(out) -> None:
    j = {r["journey_id"]: r for r in out["journeys"].to_pylist()}
    f = j["ix-f1"]
    # Fay: handled, no disposition, no case, never back: resolved by confirmation alone, and
    # with one contact an (operational) first-contact resolution.
    assert (f["is_resolved"], f["resolution_basis"], f["is_first_contact_resolved"]) == (
        True,
        "confirmed_only",
        True,
    )
    assert (f["last_disposition"], f["is_capped"], f["is_ended"]) == (None, False, True)
    # Gus abandoned and never came back: nobody handled his last contact. Not resolved.
    g = j["ix-g1"]
    assert (g["is_resolved"], g["resolution_basis"], g["is_ended"]) == (False, None, True)
    # Hal was answered, though the log names no agent: resolved on confirmation.
    h = j["ix-h1"]
    assert (h["is_resolved"], h["resolution_basis"]) == (True, "confirmed_only")
    # Claimed and confirmed (D1-D3): Alice's last claim held; Bob's case closed.
    assert j["ix-a1"]["resolution_basis"] == "claimed_and_confirmed"
    assert j["ix-b1"]["resolution_basis"] == "claimed_and_confirmed"
    assert (j["ix-e1"]["is_resolved"], j["ix-e1"]["resolution_basis"]) == (False, None)


def test_a_journey_still_contacting_after_the_horizon_is_capped(out) -> None:
    i = one(out["journeys"], journey_id="ix-i1")
    # In span: 06-13 .. 07-13 08:00 (6 contacts, each claimed resolved and followed); 07-18
    # 10:00 is 35 days on, within W of 07-13: capped, not resolved, ended 07-20 08:00.
    assert (i["contacts"], i["false_resolution_claims"], i["is_capped"], i["is_resolved"]) == (
        6,
        6,
        True,
        False,
    )
    assert (i["last_contact_at"], i["window_closes_at"]) == (
        fx.lt("07-13 08:00"),
        fx.lt("07-20 08:00"),
    )
    assert (i["is_ended"], i["time_to_resolution_hours"], i["resolution_basis"]) == (
        True,
        None,
        None,
    )
    # Her 07-18 contact belongs to no journey row.
    jc = out["journey_contacts"]
    assert [r["contact_id"] for r in rows(jc, journey_id="ix-i1")] == [
        f"ix-i{n}" for n in range(1, 7)
    ]
    assert rows(jc, contact_id="ix-i7") == []
    # Uncapped journeys of D1-D3 are not.
    assert not any(
        r["is_capped"] for r in out["journeys"].to_pylist() if r["journey_id"] != "ix-i1"
    )


def test_capping_is_known_once_the_follow_up_is() -> None:
    """Before 07-18 10:00 Ivy's journey is open and not capped; once her 07-18 call is known
    (as_of 07-19), it is capped, though its window has not closed yet (07-20 08:00)."""
    before = one(
        compute_outcomes(fx.inputs(), [fx.D4], fx.lt("07-15 00:00"))["journeys"],
        journey_id="ix-i1",
    )
    assert (before["is_capped"], before["is_ended"], before["is_resolved"]) == (False, False, None)
    after = one(
        compute_outcomes(fx.inputs(), [fx.D4], fx.lt("07-19 00:00"))["journeys"],
        journey_id="ix-i1",
    )
    assert (after["is_capped"], after["is_ended"], after["is_resolved"]) == (True, False, None)


def test_a_longer_horizon_uncaps_the_journey() -> None:
    """H = 40 days: all seven of Ivy's contacts are in span and the last one (07-18) is not
    followed; its claim "resolved" holds: resolved after 7 contacts."""
    cfg = OutcomeConfig(max_journey_days=40)
    i = one(compute_outcomes(fx.inputs(), [fx.D4], AS_OF, cfg)["journeys"], journey_id="ix-i1")
    assert (i["contacts"], i["is_capped"], i["is_resolved"]) == (7, False, True)
    assert i["resolution_basis"] == "claimed_and_confirmed"


def test_daily_outcomes_of_d4(out) -> None:
    d = out["daily_outcomes"]
    s = {c: day_sum(d, fx.D4, c) for c in d.column_names[5:-4]}
    # Fay and Hal resolved (both first-contact, no CES: effortless); Gus and Ivy failed.
    assert (s["journeys_started"], s["journeys_ended"], s["resolved_journeys"]) == (4, 4, 2)
    assert (s["failed_journeys"], s["fcr_journeys"], s["effortless_resolutions"]) == (2, 2, 2)
    assert s["contacts_in_ended_journeys"] == 1 + 1 + 1 + 6
    assert (s["contacts"], s["repeat_contacts"]) == (4, 0)
    # Only Ivy's 06-13 contact carries a claim (resolved, followed).
    assert (s["resolved_claims"], s["false_resolutions"]) == (1, 1)
    fay_ivy = one(
        d,
        partition_date=fx.D4,
        channel="phone",
        queue="billing",
        team="express",
        segment="consumer",
    )
    assert (fay_ivy["resolution_rate"], fay_ivy["fcr_rate"]) == (0.5, 0.5)
    assert fay_ivy["customer_success_ratio"] == pytest.approx(1 / 7)
    assert (fay_ivy["resolved_claims"], fay_ivy["false_resolution_rate"]) == (1, 1.0)
    # Where no contact carries a claim the claim figures are unknown (NULL), not zero.
    hal = one(
        d,
        partition_date=fx.D4,
        channel="phone",
        queue="general",
        team="express",
        segment="consumer",
    )
    assert (hal["resolution_rate"], hal["fcr_rate"]) == (1.0, 1.0)
    assert (hal["resolved_claims"], hal["false_resolutions"], hal["false_resolution_rate"]) == (
        None,
        None,
        None,
    )
    gus = one(
        d, partition_date=fx.D4, channel="chat", queue="general", team="unassigned", segment="smb"
    )
    assert (gus["resolution_rate"], gus["failed_journeys"], gus["resolved_claims"]) == (
        0.0,
        1,
        None,
    )
    assert {r["is_final"] for r in d.to_pylist()} == {True}


def test_output_vs_outcome_of_d4(out) -> None:
    v = out["daily_agent_output_vs_outcome"]
    assert sorted((r["team"], r["agent_id"]) for r in rows(v, partition_date=fx.D4)) == [
        ("express", "X1"),
        ("express", "unassigned"),
    ]
    x1 = one(v, partition_date=fx.D4, agent_id="X1")
    # Fay (320 s) and Ivy (210 s); only Ivy's contact carries a claim, and it was false.
    assert (x1["legs_handled"], x1["aht_seconds"], x1["judged_contacts"]) == (2, 265.0, 2)
    assert (x1["dispositioned_contacts"], x1["claimed_resolution_rate"]) == (1, 1.0)
    assert (x1["false_resolution_rate"], x1["really_resolved_contacts"]) == (1.0, 1)
    assert (x1["real_resolution_rate"], x1["resolution_gap"]) == (0.5, 0.5)
    # Hal's call, answered with no agent named: its handled leg counts, under 'unassigned'.
    u = one(v, partition_date=fx.D4, agent_id="unassigned")
    assert (u["legs_handled"], u["handle_seconds_sum"], u["judged_contacts"]) == (1, 120, 1)
    assert (u["dispositioned_contacts"], u["resolved_claims"], u["claimed_resolution_rate"]) == (
        None,
        None,
        None,
    )
    assert (u["real_resolution_rate"], u["resolution_gap"]) == (1.0, None)


def _handled_by_day_team(table: pa.Table, column: str) -> dict:
    totals: dict = defaultdict(int)
    for r in table.to_pylist():
        totals[(r["partition_date"], r["team"])] += r[column]
    return {k: v for k, v in totals.items() if v}


def test_roll_ups_agree(out) -> None:
    """daily_agent_output_vs_outcome's handled legs and handle time equal daily_outputs' per day and
    team (a handled call with no agent included)."""
    o, v = out["daily_outputs"], out["daily_agent_output_vs_outcome"]
    for column in ("legs_handled", "handle_seconds_sum"):
        assert _handled_by_day_team(v, column) == _handled_by_day_team(o, column), column
    assert _handled_by_day_team(o, "legs_handled")[(fx.D4, "express")] == 3


def test_is_really_resolved_needs_an_answer() -> None:
    """A call that ended neither answered nor abandoned (a phantom call) is not really
    resolved, though nobody called back."""
    inputs = fx.inputs()
    legs = inputs.interactions
    phantom = dict(
        legs.filter(pc.equal(legs["interaction_id"], "ix-h1")).to_pylist()[0],
        interaction_id="ix-h9",
        answered_at=None,
        customer_id="C99",  # unknown to the CRM: a journey of its own
        queued_at=fx.lt("06-10 08:00"),
        ended_at=fx.lt("06-10 08:00:20"),
        partition_date=fx.D1,
    )
    extra = pa.concat_tables([legs, pa.Table.from_pylist([phantom], legs.schema)])
    out = compute_outcomes(replace(inputs, interactions=extra), [fx.D1], AS_OF)
    h9 = one(out["journey_contacts"], contact_id="ix-h9")
    assert (h9["is_abandoned"], h9["is_really_resolved"]) == (False, False)
    assert one(out["journeys"], journey_id="ix-h9")["is_resolved"] is False


def test_bounded_main_zone_equals_unbounded(out) -> None:
    """Contacts after the last day's end + H + W change no computed row: the main zone stops
    there. Ivy's 07-18 call is inside that bound (06-14 + 37 days = 07-21): a call of hers on
    07-25 (after it, before as_of) must change nothing, with or without the bound."""
    unbounded = compute_outcomes(fx.inputs(), fx.D4_DAYS, AS_OF, bound_main_zone=False)
    for name, table in out.items():
        assert unbounded[name].equals(table), name
    inputs = fx.inputs()
    late = fx.staged(
        "interactions",
        [
            fx.leg(
                "ix-i8",
                "phone",
                "billing",
                "express",
                "X1",
                "07-25 09:00",
                wait=5,
                talk=60,
                customer_id="C9",
            )
        ],
        "queued_at",
    )
    more = replace(inputs, interactions=pa.concat_tables([inputs.interactions, late]))
    for bound in (True, False):
        again = compute_outcomes(more, fx.D4_DAYS, AS_OF, bound_main_zone=bound)
        for name, table in out.items():
            assert again[name].equals(table), (name, bound)
