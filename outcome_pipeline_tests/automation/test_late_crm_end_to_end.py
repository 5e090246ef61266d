"""A late customers file, end to end: it changes one customer's segment
and moves an email to another customer; the sensor restates every computed day from
D - W - 1 to the last one (not just D + W + 2), the affected later days change, nothing else.

The email move: with the project's identity rule an email held by two CRM customers (over
their versions) matches neither, so the contacts known only by that email stop being the old
owner's. The customer is chosen so that all those contacts fall after D.
"""

from __future__ import annotations

import csv
import warnings
from datetime import date, timedelta

import dagster as dg
import pytest

from outcome_pipeline.contracts.feeds import SEGMENTS
from outcome_pipeline.defs.automation.jobs import RANGE_END, RANGE_START, THEN_END, THEN_START
from outcome_pipeline.defs.automation.sensors import late_landing_files, restate_after_load
from outcome_pipeline.defs.outcomes.assets import REPEAT_WINDOW_DAYS
from outcome_pipeline.defs.resources import LandingResource
from outcome_pipeline_tests.automation.pipeline import TZ, Pipeline, generate_days

pytestmark = pytest.mark.slow
FIRST = date(2024, 1, 1)
DAYS = 14
LAST = FIRST + timedelta(days=DAYS - 1)
D = date(2024, 1, 3)  # the late file's day folder
VERSION_AT = "2024-01-03T12:00:00Z"
# What the plan restated before item 5: D - W - 1 .. D + W + 2.
OLD_LAST = D + timedelta(days=REPEAT_WINDOW_DAYS + 2)
IGNORED = {"as_of"}


def sense(p: Pipeline, cursor: str | None):
    context = dg.build_sensor_context(
        instance=p.instance,
        cursor=cursor,
        resources={"landing": LandingResource(root=str(p.landing), timezone=TZ)},
    )
    return late_landing_files(context)


def chain(p: Pipeline, result: dg.ExecuteInProcessResult) -> dg.RunRequest:
    run = p.instance.get_run_by_id(result.run_id)
    event = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        context = dg.build_run_status_sensor_context(
            sensor_name="restate_after_load",
            dagster_event=event,
            dagster_instance=p.instance,
            dagster_run=run,
        )
    return restate_after_load(context)


def rows(p: Pipeline, sql: str) -> list[dict]:
    wh = p.warehouse()
    try:
        return wh.query(sql.format(q=wh.qualified)).to_pylist()
    finally:
        wh.dispose()


def table_rows(p: Pipeline, table: str, key: tuple[str, ...]) -> dict[tuple, dict]:
    wh = p.warehouse()
    try:
        got = wh.query(f"SELECT * FROM {wh.qualified(table)}").to_pylist()
    finally:
        wh.dispose()
    return {tuple(r[k] for k in key): {k: v for k, v in r.items() if k not in IGNORED} for r in got}


def changed(before: dict, after: dict) -> list[tuple]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def pick_customers(p: Pipeline) -> tuple[dict, dict, dict, str]:
    """(A: segment changes, B: loses its email, C: gets it, the email), from the data."""
    wh = p.warehouse()
    q = wh.qualified
    try:
        single = f"""(SELECT customer_id FROM {q("stg_customers")}
            GROUP BY customer_id HAVING count(*) = 1)"""
        a = wh.query(
            f"SELECT customer_key FROM {q('journeys')} WHERE partition_date > DATE '{OLD_LAST}' "
            f"AND customer_key IN {single} ORDER BY customer_key LIMIT 1"
        ).to_pylist()[0]["customer_key"]
        # B: every contact matched by its email falls after D, at least one after OLD_LAST.
        b = wh.query(
            f"""SELECT customer_key FROM {q("journey_contacts")}
            WHERE match_rule = 'crm_email' AND customer_key IN {single}
                AND customer_key <> '{a}'
            GROUP BY customer_key
            HAVING min(started_at) > TIMESTAMPTZ '{D + timedelta(days=1)} 00:00:00+00'
                AND max(partition_date) > DATE '{OLD_LAST}'
            ORDER BY customer_key LIMIT 1"""
        ).to_pylist()[0]["customer_key"]
        c = wh.query(
            f"""SELECT customer_id FROM {q("stg_customers")}
            WHERE customer_id IN {single}
                AND customer_id NOT IN (SELECT customer_key FROM {q("journey_contacts")}
                    WHERE customer_key IS NOT NULL)
            ORDER BY customer_id LIMIT 1"""
        ).to_pylist()[0]["customer_id"]
        current = {
            r["customer_id"]: r
            for r in wh.query(
                f"SELECT * FROM {q('stg_customers')} WHERE customer_id IN ('{a}', '{b}', '{c}')"
            ).to_pylist()
        }
    finally:
        wh.dispose()
    return current[a], current[b], current[c], current[b]["email"]


def write_late_customers(p: Pipeline, versions: list[dict]) -> None:
    fields = ["customer_id", "email", "phone", "segment", "plan", "region", "created_at"]
    fields += ["mrr", "updated_at"]
    path = p.landing / "crm" / D.isoformat() / "customers_late.csv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for v in versions:
            row = {k: v[k] for k in fields}
            row["created_at"] = v["created_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
            row["updated_at"] = VERSION_AT
            w.writerow(row)


def test_a_late_customers_file_restates_every_later_day_it_changes(tmp_path) -> None:
    generate_days(tmp_path / "landing", FIRST, DAYS)
    p = Pipeline(
        landing=tmp_path / "landing",
        url=f"duckdb:///{tmp_path}/warehouse.duckdb",
        schema="outcome",
        bi_copy=tmp_path / "warehouse_bi.duckdb",
        instance=dg.DagsterInstance.ephemeral(),
    )
    tags = {RANGE_START: FIRST.isoformat(), RANGE_END: LAST.isoformat()}
    assert p.run("nightly_outcomes", tags=tags).success
    baseline = sense(p, None)
    assert baseline.run_requests == []
    journeys_key, contacts_key = ("journey_id",), ("contact_id",)
    daily_key = ("partition_date", "channel", "queue", "team", "segment")
    before = {
        "journeys": table_rows(p, "journeys", journeys_key),
        "journey_contacts": table_rows(p, "journey_contacts", contacts_key),
        "daily_outcomes": table_rows(p, "daily_outcomes", daily_key),
    }
    a, b, c, email = pick_customers(p)
    new_segment = next(s for s in SEGMENTS if s != a["segment"])
    write_late_customers(
        p,
        [
            {**a, "segment": new_segment},
            {**b, "email": f"moved.{b['customer_id'].lower()}@example.org"},
            {**c, "email": email},
        ],
    )

    found = sense(p, baseline.cursor)
    (request,) = found.run_requests
    assert request.partition_key == D.isoformat()
    assert [k.to_user_string() for k in request.asset_selection] == ["stg_customers"]
    # D - W - 1 (before the first day: cut to it) .. the last computed day, past D + W + 2.
    assert (request.tags[THEN_START], request.tags[THEN_END]) == (
        FIRST.isoformat(),
        LAST.isoformat(),
    )
    restage = p.run("restage_late_files", request)
    assert restage.success
    follow = chain(p, restage)
    assert (follow.tags[RANGE_START], follow.tags[RANGE_END]) == (
        FIRST.isoformat(),
        LAST.isoformat(),
    )
    assert p.run("restate_outcomes", follow).success

    after = {
        "journeys": table_rows(p, "journeys", journeys_key),
        "journey_contacts": table_rows(p, "journey_contacts", contacts_key),
        "daily_outcomes": table_rows(p, "daily_outcomes", daily_key),
    }
    ids = {a["customer_id"], b["customer_id"], c["customer_id"]}
    new_keys = {r["customer_key"] for r in after["journey_contacts"].values()} - {
        r["customer_key"] for r in before["journey_contacts"].values()
    }
    assert len(new_keys) == 1  # the moved email's pseudonymous customer
    for table in ("journeys", "journey_contacts"):
        diff = changed(before[table], after[table])
        assert diff, table
        rows_ = [r for k in diff for r in (before[table].get(k), after[table].get(k)) if r]
        # Only rows of the three customers (or the email's new key) changed ...
        assert {r["customer_key"] for r in rows_} <= ids | new_keys, table
        # ... on days from D on, including days the old plan (to D + W + 2) left stale.
        days = {r["partition_date"] for r in rows_}
        assert min(days) >= D and max(days) > OLD_LAST, (table, sorted(days))
    # A: its journeys after the new version carry the new segment; the one before, the old.
    a_journeys = [r for r in after["journeys"].values() if r["customer_key"] == a["customer_id"]]
    assert a_journeys
    for r in a_journeys:
        want = new_segment if r["partition_date"] > D else a["segment"]
        assert r["segment"] == want, r
    # B: no contact is matched to it by the email any more.
    assert not [
        r
        for r in after["journey_contacts"].values()
        if r["customer_key"] == b["customer_id"] and r["match_rule"] == "crm_email"
    ]
    # The daily table moves with them: only days after D, some past D + W + 2.
    daily_days = {k[0] for k in changed(before["daily_outcomes"], after["daily_outcomes"])}
    assert daily_days and min(daily_days) > D and max(daily_days) > OLD_LAST, sorted(daily_days)
