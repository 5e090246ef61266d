"""The planted structures exist, and the data looks like a contact center, not noise."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from outcome_pipeline.contracts.feeds import CONTRACTS, SURVEY_SCORE_RANGES
from outcome_pipeline.generator import GenerationReport
from outcome_pipeline.ingest.readers import read_landing_file

Run = tuple[Path, GenerationReport]


def _table(out: Path, report: GenerationReport, name: str) -> pa.Table:
    contract = CONTRACTS[name]
    parts = [read_landing_file(out / f.path, contract) for f in report.files if f.table == name]
    table = pa.concat_tables(parts)
    return table.drop_columns([c for c in table.column_names if c.startswith("_")])


@pytest.fixture(scope="module")
def interactions(clean_run: Run) -> pa.Table:
    return _table(*clean_run, "interactions")


def test_fast_team_resolves_less_and_claims_more_than_the_thorough_team(clean_run: Run) -> None:
    truth = clean_run[1].truth
    fast = truth["teams"][truth["fast_team"]]
    thorough = truth["teams"][truth["thorough_team"]]
    assert fast["true_resolution_rate"] < thorough["true_resolution_rate"] - 0.2
    assert fast["mean_handle_seconds"] < thorough["mean_handle_seconds"] / 2
    assert fast["claimed_resolved_rate"] > thorough["claimed_resolved_rate"]
    assert fast["false_claim_rate"] > 4 * thorough["false_claim_rate"]


def test_churn_follows_unresolved_issues(clean_run: Run) -> None:
    truth = clean_run[1].truth
    for days in (30, 90):
        unresolved = truth[f"churn_{days}d_after_unresolved_issue"]
        resolved = truth[f"churn_{days}d_after_resolved_issue"]
        assert unresolved > 2.5 * resolved, (days, unresolved, resolved)


def test_surveys_answered_by_a_minority_and_scores_follow_the_outcome(clean_run: Run) -> None:
    out, report = clean_run
    truth = report.truth
    assert 0.10 <= truth["survey_response_rate"] <= 0.20
    for kind in ("csat", "nps", "ces"):
        assert truth[f"mean_{kind}_unresolved"] < truth[f"mean_{kind}_resolved"] - 1
    surveys = _table(out, report, "survey_responses")
    for kind, (low, high) in SURVEY_SCORE_RANGES.items():
        scores = surveys.filter(pc.equal(surveys["survey_type"], kind))["score"]
        assert len(scores) > 0 and pc.min(scores).as_py() >= low and pc.max(scores).as_py() <= high
    comments = [c for c in surveys["comment"].to_pylist() if c]
    assert comments and any("@" in c for c in comments)  # PII in free text


def test_interactions_look_like_an_omnichannel_contact_center(
    interactions: pa.Table, clean_run: Run
) -> None:
    rows = interactions.to_pylist()
    n = len(rows)
    per_day = clean_run[1].config["interactions_per_day"]
    assert 0.8 * per_day * 5 < n < 1.25 * per_day * 5
    channels = Counter(r["channel"] for r in rows)
    assert set(channels) == {"phone", "email", "chat", "social", "messaging", "web"}
    abandoned = [r for r in rows if r["abandoned"]]
    assert 0.02 < len(abandoned) / n < 0.15
    for r in abandoned:
        assert r["channel"] in ("phone", "chat", "messaging")
        assert r["answered_at"] is None and r["agent_id"] is None and r["disposition"] is None
    for r in rows:
        async_channel = r["channel"] in ("email", "social", "messaging")
        assert (r["first_response_at"] is not None) == (async_channel and not r["abandoned"])
        assert r["ended_at"] >= r["queued_at"]
    # transfers: a later leg, another queue, pointing at a delivered leg
    by_id = {r["interaction_id"]: r for r in rows}
    legs = [r for r in rows if r["parent_interaction_id"]]
    assert 0.02 < len(legs) / n < 0.12
    found = [by_id[r["parent_interaction_id"]] for r in legs if r["parent_interaction_id"] in by_id]
    assert len(found) > 0.9 * len(legs)
    assert all(
        r["queued_at"] >= p["ended_at"] and r["queue"] != p["queue"]
        for r, p in zip(
            [r for r in legs if r["parent_interaction_id"] in by_id], found, strict=True
        )
    )
    # identities: CRM id, or only an email / phone written in other ways, or nothing
    no_id = [r for r in rows if r["customer_id"] is None]
    assert 0.15 < len(no_id) / n < 0.6
    phones = [r["customer_phone"] for r in no_id if r["customer_phone"]]
    assert any(p.startswith("+44") for p in phones) and any(p.startswith("07") for p in phones)
    emails = [r["customer_email"] for r in rows if r["customer_email"]]
    assert any(e != e.strip() for e in emails) and any(e != e.lower() for e in emails)
    assert any(e in ("anonymous", "unknown") for e in emails)
    # cases, dispositions, outbound callbacks
    assert sum(r["case_id"] is not None for r in rows) > 0.2 * n
    assert Counter(r["disposition"] for r in rows)["resolved"] > 0.4 * n
    assert 0 < sum(r["direction"] == "outbound" for r in rows) < 0.1 * n


def test_business_hours_and_quieter_weekends(interactions: pa.Table) -> None:
    local = pc.local_timestamp(interactions["queued_at"].cast(pa.timestamp("us", "Europe/London")))
    hours = Counter(pc.hour(local).to_pylist())
    assert hours[11] > 5 * hours[3]
    days = Counter(pc.day_of_week(local).to_pylist())  # Monday = 0
    assert days[3] > 1.5 * days[6]  # Thursday vs Sunday


def test_repeat_contacts_across_days_and_channels(interactions: pa.Table) -> None:
    rows = [
        r for r in interactions.to_pylist() if r["customer_id"] and not r["parent_interaction_id"]
    ]
    by_customer: dict[str, list[dict]] = {}
    for r in rows:
        by_customer.setdefault(r["customer_id"], []).append(r)
    gaps, switches = [], 0
    for contacts in by_customer.values():
        contacts.sort(key=lambda r: r["queued_at"])
        for a, b in itertools.pairwise(contacts):
            gaps.append((b["queued_at"] - a["queued_at"]).total_seconds() / 86_400)
            switches += a["channel"] != b["channel"]
    assert len(gaps) > 500 and switches > 50
    assert any(g < 1 for g in gaps) and any(1 <= g < 4 for g in gaps)
    # one very heavy customer
    top, second = sorted(len(c) for c in by_customer.values())[-2:][::-1]
    assert top > 2 * second and top > 10 * (len(rows) / len(by_customer))


def test_crm_change_sets(clean_run: Run) -> None:
    out, report = clean_run
    customers = _table(out, report, "customers")
    first_day = report.config["start"]
    snapshot = [f for f in report.files if f.table == "customers" and f.day == first_day]
    assert len(snapshot) == 1 and snapshot[0].rows > 0.98 * report.truth["customers"]
    later = [f for f in report.files if f.table == "customers" and f.day != first_day]
    assert later and all(f.rows < 0.05 * snapshot[0].rows for f in later)
    assert set(customers["segment"].to_pylist()) == {"consumer", "smb", "enterprise"}
    events = _table(out, report, "subscription_events")
    kinds = Counter(events["event_type"].to_pylist())
    assert {"signup", "churn", "upgrade", "downgrade"} <= set(kinds)
    churn = events.filter(pc.equal(events["event_type"], "churn"))
    assert set(churn["churn_type"].to_pylist()) == {"voluntary", "involuntary"}
    assert pc.all(pc.equal(churn["mrr_after"], 0.0)).as_py()
    cases = _table(out, report, "cases")
    assert {"open", "solved", "closed"} <= set(cases["status"].to_pylist())
    closed = cases.filter(pc.is_valid(cases["closed_at"]))
    assert pc.all(pc.greater_equal(closed["closed_at"], closed["opened_at"])).as_py()
