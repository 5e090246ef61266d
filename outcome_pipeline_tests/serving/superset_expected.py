"""What each chart of the Superset starter dashboard must show, written independently of the
dataset metrics: SQL (or Python) over the BI tables and views, and the comparison of Superset's
answers with it (test_superset_bundle.py)."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from datetime import UTC, date, datetime

import sqlalchemy as sa


def _ratio(num: str, den: str) -> str:
    return f"CAST(sum({num}) AS DOUBLE PRECISION) / NULLIF(sum({den}), 0)"


OUTPUT_VS_OUTCOME = {
    "legs_handled": "sum(legs_handled)",
    "aht_seconds": _ratio("handle_seconds_sum", "legs_handled"),
    "claimed_resolution_rate": _ratio("resolved_claims", "dispositioned_contacts"),
    "real_resolution_rate": _ratio("really_resolved_contacts", "judged_contacts"),
    "false_resolution_rate": _ratio("false_resolutions", "resolved_claims"),
}
DAY_STATUS = "CASE WHEN bool_and(is_final) THEN 'final' ELSE 'provisional' END"
TRENDS = {
    "trend_fcr_repeat": {
        "fcr_rate": _ratio("fcr_journeys", "journeys_ended"),
        "repeat_contact_rate": _ratio("repeat_contacts", "contacts"),
    },
    "trend_surveys": {
        "csat_rate": _ratio("csat_satisfied", "csat_responses"),
        "ces_easy_rate": _ratio("ces_easy", "ces_responses"),
    },
    "trend_nps": {
        "nps": "100 * (CAST(sum(nps_promoters) AS DOUBLE PRECISION) - sum(nps_detractors))"
        " / NULLIF(sum(nps_responses), 0)"
    },
    "trend_churn": {
        "churn_30d_rate": _ratio("churned_30d", "journeys_ended"),
        "churn_90d_rate": _ratio("churned_90d", "journeys_ended"),
    },
}
QUALITY = ("files", "rows_read", "rows_staged", "rows_quarantined", "rows_duplicate", "rows_late")


def _expected_sql(schema: str) -> dict[str, tuple[list[str], str]]:
    """{chart: (key columns, SELECT)} over the BI tables in ``schema``."""
    s = f'"{schema}"'

    def select(keys: list[str], exprs: dict[str, str], table: str, where: str = "") -> str:
        cols = [*keys, *(f"{e} AS {name}" for name, e in exprs.items())]
        group = f" GROUP BY {', '.join(keys)}" if keys else ""
        return f"SELECT {', '.join(cols)} FROM {s}.{table}{where}{group}"

    out = {
        "fcr_headline": (
            [],
            select([], {"fcr_rate": _ratio("fcr_journeys", "journeys_ended")}, "daily_outcomes"),
        ),
        "false_resolution_headline": (
            [],
            select(
                [],
                {"false_resolution_rate": OUTPUT_VS_OUTCOME["false_resolution_rate"]},
                "daily_agent_output_vs_outcome",
            ),
        ),
        "team_bubble": (
            ["team"],
            select(
                ["team"],
                {
                    k: OUTPUT_VS_OUTCOME[k]
                    for k in ("aht_seconds", "real_resolution_rate", "legs_handled")
                },
                "daily_agent_output_vs_outcome",
            ),
        ),
        "team_table": (
            ["team"],
            select(["team"], OUTPUT_VS_OUTCOME, "daily_agent_output_vs_outcome"),
        ),
        "agent_bubble": (
            ["agent_id", "team"],
            select(
                ["agent_id", "team"],
                {
                    k: OUTPUT_VS_OUTCOME[k]
                    for k in ("aht_seconds", "real_resolution_rate", "legs_handled")
                },
                "daily_agent_output_vs_outcome",
            ),
        ),
        "agent_table": (
            ["team", "agent_id"],
            select(["team", "agent_id"], OUTPUT_VS_OUTCOME, "daily_agent_output_vs_outcome"),
        ),
        "journeys_by_channel": (
            ["channel"],
            select(
                ["channel"],
                {
                    "resolution_rate": _ratio("resolved_journeys", "journeys_ended"),
                    "fcr_rate": _ratio("fcr_journeys", "journeys_ended"),
                    "channel_switch_rate": _ratio("multichannel_journeys", "journeys_ended"),
                },
                "daily_outcomes",
            ),
        ),
        "contacts_per_resolution_by_channel": (
            ["channel"],
            select(
                ["channel"],
                {
                    "contacts_per_resolution": _ratio(
                        "contacts_in_resolved_journeys", "resolved_journeys"
                    )
                },
                "daily_outcomes",
            ),
        ),
        "contacts_per_journey": (
            ["contacts"],
            select(
                ["contacts"],
                {"journeys": "count(*)"},
                "journeys",
                " WHERE is_ended AND NOT is_anonymous",
            ),
        ),
        "revenue_at_risk": (
            ["partition_date"],
            select(
                ["partition_date"],
                {"revenue_at_risk": "sum(revenue_at_risk)", "revenue_kept": "sum(revenue_kept)"},
                "daily_outcomes",
            ),
        ),
        "quality_by_day": (
            ["partition_date"],
            select(
                ["partition_date"],
                {c: f"sum({c})" for c in ("rows_quarantined", "rows_late", "rows_duplicate")},
                "load_audit",
            ),
        ),
        "quality_table": (
            ["partition_date", "feed"],
            select(["partition_date", "feed"], {c: f"sum({c})" for c in QUALITY}, "load_audit"),
        ),
    }
    for chart, exprs in TRENDS.items():
        cols = ", ".join(f"{e} AS {name}" for name, e in exprs.items())
        out[chart] = (
            ["business_day", "day_status"],
            f"SELECT partition_date AS business_day, {DAY_STATUS} AS day_status, {cols} "
            f"FROM {s}.daily_outcomes GROUP BY partition_date",
        )
    return out


def _ttr_bucket(resolved: bool, hours: float | None) -> str:
    if not resolved:
        return "not resolved"
    for limit, name in ((1, "1: < 1 h"), (4, "2: 1-4 h"), (24, "3: 4-24 h"), (72, "4: 1-3 days")):
        if hours < limit:
            return name
    return "5: > 3 days"


def _expected_from_journeys(journeys: list[tuple]) -> dict[str, list[dict]]:
    """Charts over ended journeys, computed in Python from (resolved, hours, churn30, churn90)."""
    ttr: dict[str, int] = defaultdict(int)
    churn: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for resolved, hours, churn30, churn90 in journeys:
        assert resolved is not None  # NULL only while open or anonymous
        ttr[_ttr_bucket(resolved, hours)] += 1
        c = churn["resolved" if resolved else "unresolved"]
        c[0] += 1
        c[1] += bool(churn30)
        c[2] += bool(churn90)
    return {
        "time_to_resolution": [
            {"time_to_resolution_bucket": k, "journeys": n} for k, n in ttr.items()
        ],
        "churn_by_resolution": [
            {
                "resolution_status": k,
                "churn_30d_rate": c30 / n,
                "churn_90d_rate": c90 / n,
            }
            for k, (n, c30, c90) in churn.items()
        ],
    }


def _expected_switches(contacts: list[tuple]) -> list[dict]:
    """The 15 most frequent channel pairs of consecutive contacts of a journey, in Python."""
    by_journey: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for journey, seq, channel in contacts:
        by_journey[journey].append((seq, channel))
    pairs: dict[str, int] = defaultdict(int)
    for rows in by_journey.values():
        channels = [c for _, c in sorted(rows)]
        for before, after in itertools.pairwise(channels):
            if before != after:
                pairs[f"{before} -> {after}"] += 1
    return [{"channel_switch": k, "switches": n} for k, n in pairs.items()]


def _normalise(value, column: str):
    if column in ("business_day", "partition_date"):
        if isinstance(value, int | float):  # Superset sends temporal values as epoch ms
            return datetime.fromtimestamp(value / 1000, UTC).date()
        if isinstance(value, str):
            return date.fromisoformat(value[:10])
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def _close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _keyed(rows: list[dict], keys: list[str]) -> dict[tuple, dict]:
    out = {}
    for r in rows:
        row = {k: _normalise(v, k) for k, v in r.items()}
        key = tuple(row[k] for k in keys)
        assert key not in out, f"two rows for {key}"
        out[key] = row
    return out


def compare(chart: str, got: list[dict], want: list[dict], keys: list[str]) -> list[str]:
    problems = []
    g, w = _keyed(got, keys), _keyed(want, keys)
    limit = {"agent_table": 100, "agent_bubble": 100, "channel_switch_pairs": 15}.get(chart)
    if limit and len(w) > limit:
        # The busiest only: every row shown must be right, and as many as the limit.
        assert len(g) == limit
        w = {k: w[k] for k in g if k in w}
    if g.keys() != w.keys():
        return [
            f"{chart}: keys differ: superset-only {g.keys() - w.keys()}, "
            f"sql-only {w.keys() - g.keys()}"
        ]
    for key, want_row in w.items():
        for column, value in want_row.items():
            if not _close(g[key].get(column), value):
                problems.append(f"{chart} {key} {column}: superset {g[key].get(column)} != {value}")
    return problems


def _query_dicts(conn, sql: str) -> list[dict]:
    result = conn.exec_driver_sql(sql)
    return [dict(r._mapping) for r in result]


def expected_figures(engine: sa.Engine, schema: str) -> dict[str, tuple[list[str], list[dict]]]:
    with engine.connect() as conn:
        out = {
            chart: (keys, _query_dicts(conn, sql))
            for chart, (keys, sql) in _expected_sql(schema).items()
        }
        journeys = conn.exec_driver_sql(
            "SELECT is_resolved, time_to_resolution_hours, is_churned_within_30d, "
            "is_churned_within_90d "
            f'FROM "{schema}".journeys WHERE is_ended AND NOT is_anonymous'
        ).fetchall()
        contacts = conn.exec_driver_sql(
            f'SELECT journey_id, contact_seq, channel FROM "{schema}".journey_contacts'
        ).fetchall()
    out["channel_switch_pairs"] = (["channel_switch"], _expected_switches(contacts))
    for chart, rows in _expected_from_journeys(journeys).items():
        keys = (
            ["time_to_resolution_bucket"]
            if chart == "time_to_resolution"
            else ["resolution_status"]
        )
        out[chart] = (keys, rows)
    return out
