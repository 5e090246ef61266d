"""The Superset starter dashboard, imported into a real Superset and read through its API.

The bundle (bi/superset/bundles/) is generated from the table definitions; the first test
keeps the committed files equal to the generator's output. The slow test builds a small
warehouse from generated feeds (staged and computed by the pipeline's own functions), publishes
it to the DuckDB BI file and to a PostgreSQL BI schema, imports both bundles into a fresh
Superset (its own venv, bi/superset/setup.sh; metadata in SQLite) and runs every chart's data
query through Superset's REST API (``GET /api/v1/chart/<id>/data/``). Every figure must equal
SQL (or Python) over the tables, written here independently of the dataset metrics.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
import sqlalchemy as sa

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.ingest.stage import audit_row, stage_day
from outcome_pipeline.outcomes import (
    HISTORY_INPUTS,
    OutcomeConfig,
    OutcomeInputs,
    compute_outcomes,
    input_window,
)
from outcome_pipeline.serving.pg_publish import bi_schema_name, publish_postgres_bi
from outcome_pipeline.serving.publish import BI_TABLES, publish_duckdb_copy
from outcome_pipeline.serving.superset_bundle import BACKENDS, render_bundle
from outcome_pipeline.serving.superset_catalog import CHARTS
from outcome_pipeline.warehouse import Warehouse
from outcome_pipeline.warehouse.tables import LOAD_AUDIT
from outcome_pipeline_tests.conftest import _drop_schema

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = ROOT / "bi" / "superset" / "bundles"
SUPERSET_VENV = Path(
    os.environ.get("SUPERSET_VENV", "~/.cache/outcome_pipeline/superset-venv")
).expanduser()

TZ = "Europe/London"
START = date(2024, 3, 1)
GENERATED = 24
DAYS = [START + timedelta(days=i) for i in range(1, 20)]
# As nights leave them: the older days computed long after (final), the recent ones the
# night after they ended (provisional: journeys still open).
FINAL_AS_OF = datetime.combine(START + timedelta(days=45), time(), ZoneInfo(TZ))
OPEN_AS_OF = datetime.combine(DAYS[-1] + timedelta(days=1), time(), ZoneInfo(TZ))
FINAL_DAYS, OPEN_DAYS = DAYS[:10], DAYS[10:]


def test_the_committed_bundle_is_the_generated_one() -> None:
    for backend in BACKENDS:
        want = render_bundle(backend)
        root = BUNDLES / backend
        have = {str(p.relative_to(root)): p.read_text() for p in root.rglob("*.yaml")}
        stale = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))
        assert not stale, (
            f"bi/superset/bundles/{backend} is stale in {stale}: run "
            "python -m outcome_pipeline.serving.superset_bundle"
        )


def test_rates_are_ratios_of_sums_and_every_dataset_column_exists() -> None:
    import yaml

    docs = {p: yaml.safe_load(t) for p, t in render_bundle("duckdb").items()}
    datasets = {d["table_name"]: d for p, d in docs.items() if p.startswith("datasets/")}
    bubble = docs["charts/team_bubble.yaml"]
    metrics = {m["metric_name"]: m for m in datasets["daily_agent_output_vs_outcome"]["metrics"]}
    assert metrics["aht_seconds"]["expression"] == (
        "CAST(SUM(handle_seconds_sum) AS FLOAT8) / NULLIF(SUM(legs_handled), 0)"
    )
    assert [bubble["params"][k] for k in ("x", "y", "size")] == [
        "aht_seconds",
        "real_resolution_rate",
        "legs_handled",
    ]
    tables = {t.name: t for t in BI_TABLES}
    for name, ds in datasets.items():
        physical = [c["column_name"] for c in ds["columns"] if not c["expression"]]
        if name in tables:
            assert physical == tables[name].column_names
    dashboard = next(d for p, d in docs.items() if p.startswith("dashboards/"))
    placed = {
        v["meta"]["uuid"]
        for v in dashboard["position"].values()
        if isinstance(v, dict) and v.get("type") == "CHART"
    }
    assert placed == {d["uuid"] for p, d in docs.items() if p.startswith("charts/")}


# -- the slow test: a real Superset ---------------------------------------------------------


@pytest.fixture(scope="module")
def superset_python() -> Path:
    """Superset's venv (bi/superset/setup.sh), checked before any data is built."""
    python = SUPERSET_VENV / "bin" / "python"
    if not python.exists():
        message = (
            f"no Superset venv at {SUPERSET_VENV}: run bi/superset/setup.sh "
            "(creates it with the pinned versions, ~1-5 min)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {message}")
        pytest.skip(message)
    return python


def _staged_inputs(landing: Path) -> tuple[OutcomeInputs, list[dict]]:
    generate(GeneratorConfig(landing, START, GENERATED, 150, seed=11, timezone=TZ))
    window = input_window(DAYS[0], DAYS[-1], FINAL_AS_OF, OutcomeConfig(timezone=TZ))
    tables, audit = {}, []
    for name, contract in CONTRACTS.items():
        first = START if name in HISTORY_INPUTS else max(START, window.start)
        span = (min(window.end, START + timedelta(days=GENERATED - 1)) - first).days + 1
        staged = [stage_day(landing, contract, first + timedelta(days=i), TZ) for i in range(span)]
        tables[name] = pa.concat_tables([s.staged for s in staged])
        audit += [audit_row(s) for s in staged if s.day in DAYS]
    return OutcomeInputs(**tables), audit


def _write(wh: Warehouse, out: dict[str, pa.Table], audit: list[dict]) -> None:
    wh.create_tables(BI_TABLES)
    with wh.begin() as conn:
        for t in BI_TABLES:
            rows = out.get(t.name)
            if t is LOAD_AUDIT:
                rows = pa.Table.from_pylist(audit).select(t.column_names).cast(t.arrow_schema)
            wh.insert_rows(conn, t, rows)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, pg_url: str):
    """The same tables in a DuckDB BI file and a PostgreSQL BI schema."""
    tmp = Path(tmp_path_factory.mktemp("superset"))
    inputs, audit = _staged_inputs(tmp / "landing")
    cfg = OutcomeConfig(timezone=TZ)
    final = compute_outcomes(inputs, FINAL_DAYS, FINAL_AS_OF, cfg)
    recent = compute_outcomes(inputs, OPEN_DAYS, OPEN_AS_OF, cfg)
    out = {name: pa.concat_tables([final[name], recent[name]]) for name in final}
    schema = f"t_{uuid.uuid4().hex[:12]}"
    working = Warehouse(f"duckdb:///{tmp}/warehouse.duckdb", schema)
    _write(working, out, audit)
    working.dispose()
    bi_file = tmp / "warehouse_bi.duckdb"
    publish_duckdb_copy(tmp / "warehouse.duckdb", bi_file, schema)
    pg = Warehouse(pg_url, schema)
    try:
        _write(pg, out, audit)
        publish_postgres_bi(pg, refresh=DAYS)
        yield {"tmp": tmp, "schema": schema, "bi_file": bi_file, "pg": pg}
    finally:
        pg.dispose()
        _drop_schema(pg_url, schema)


def _pg_psycopg2_url(pg_url: str) -> str:
    # Superset's venv has psycopg2 (Superset's PostgreSQL driver), not psycopg 3.
    return sa.make_url(pg_url).set(drivername="postgresql+psycopg2").render_as_string(False)


def _superset_chart_data(python: Path, published, pg_url: str) -> dict:
    home = published["tmp"] / "superset_home"
    env = {
        **os.environ,
        "SUPERSET_CONFIG_PATH": str(ROOT / "bi" / "superset" / "superset_config.py"),
        "OUTCOME_SUPERSET_HOME": str(home),
        "FLASK_APP": "superset",
    }
    duckdb_uri = f"duckdb:///{published['bi_file']}?access_mode=read_only"
    cmd = [
        str(python),
        str(Path(__file__).with_name("superset_chart_data.py")),
        "--schema",
        published["schema"],
        "--target",
        "duckdb",
        duckdb_uri,
        "--target",
        "postgresql",
        _pg_psycopg2_url(pg_url),
    ]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-5000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


# Expected figures, from the tables: SQL that names numerators and denominators itself (not
# the dataset metrics), or Python over journey rows.
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


def _compare(chart: str, got: list[dict], want: list[dict], keys: list[str]) -> list[str]:
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


def _expected(engine: sa.Engine, schema: str) -> dict[str, tuple[list[str], list[dict]]]:
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


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.superset
def test_every_chart_of_the_bundle_shows_the_tables_figures_in_a_real_superset(
    superset_python: Path, published, pg_url: str
) -> None:
    got = _superset_chart_data(superset_python, published, pg_url)
    schema = published["schema"]
    engines = {
        "duckdb": (
            sa.create_engine(
                f"duckdb:///{published['bi_file']}",
                connect_args={"read_only": True},
                poolclass=sa.pool.NullPool,
            ),
            schema,
        ),
        "postgresql": (published["pg"].engine, bi_schema_name(schema)),
    }
    problems = []
    for backend, (engine, bi_schema) in engines.items():
        charts = got[backend]["charts"]
        assert set(charts) == {c.key for c in CHARTS}, backend
        failed = {k: v for k, v in charts.items() if v["status"] != 200}
        assert not failed, f"{backend}: {failed}"
        expected = _expected(engine, bi_schema)
        assert set(expected) == set(charts)
        for chart, (keys, want) in expected.items():
            assert want, f"{chart}: the sample has no rows for it"
            problems += [
                f"{backend}: {p}" for p in _compare(chart, charts[chart]["data"], want, keys)
            ]
        dashboards = got[backend]["dashboards"]
        assert list(dashboards) == [BACKENDS[backend].title]
        assert sorted(dashboards[BACKENDS[backend].title]) == sorted(c.title for c in CHARTS)
    assert not problems, "\n".join(problems[:30])
    # Some days are final and some provisional, so the marking is exercised.
    statuses = {r["day_status"] for r in got["duckdb"]["charts"]["trend_nps"]["data"]}
    assert statuses == {"final", "provisional"}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
