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

import json
import os
import subprocess
import sys
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
import sqlalchemy as sa

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.ingest.stage_finish import audit_row
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
from outcome_pipeline_tests.serving.superset_expected import compare, expected_figures

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
        expected = expected_figures(engine, bi_schema)
        assert set(expected) == set(charts)
        for chart, (keys, want) in expected.items():
            assert want, f"{chart}: the sample has no rows for it"
            problems += [
                f"{backend}: {p}" for p in compare(chart, charts[chart]["data"], want, keys)
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
