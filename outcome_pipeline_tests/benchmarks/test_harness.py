"""Guard rail for the benchmark harness (benchmarks/): a tiny run produces a complete report,
and the pipeline, the limit (raw DuckDB SQL) and the peer (pandas) compute the same figures.

No timing assertions: ratios live in the report, not in tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from benchmarks.pipeline_stages import WHOLE_NOTE
from benchmarks.run import FIGURES, STAGES, TRANSFORMS, main

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, pg_url: str):
    out = tmp_path_factory.mktemp("results")
    argv = [
        "--interactions-per-day",
        "2000",
        "--days",
        "3",
        "--backfill-days",
        "2",
        "--pg-url",
        pg_url,
        "--out",
        str(out),
        "--name",
        "tiny",
        "--workdir",
        str(tmp_path_factory.mktemp("work")),
    ]
    return main(argv), out


def test_every_stage_is_measured(report) -> None:
    result, _ = report
    assert not result.errors
    by = {(s.name, s.engine): s for s in result.stages}
    for name in STAGES:
        stage = by[(name, "pipeline")]
        assert stage.seconds > 0, name
        assert stage.peak_rss_mib > 0, name
    for engine in ("limit", "peer"):
        for name in (*TRANSFORMS, "read + type + dedupe", "warehouse write (outcomes)"):
            assert by[(name, engine)].seconds > 0, (engine, name)
    for name in ("end to end (Dagster run, warm)", "end to end (cold, from launch)"):
        assert by[(name, "pipeline")].seconds > 0
        assert by[(name, "pipeline")].peak_rss_mib > 0
    for label in ("transforms", "end to end", "end to end (Dagster run, warm)"):
        row = result.totals[label]
        assert row["pipeline/limit"] > 0 and row["pipeline/peer"] > 0, label
    # The stages measured what they say: compute_outcomes split in two (no fallback to timing
    # it whole), over the rows the report counts.
    assert all(s.note != WHOLE_NOTE for s in result.stages)
    staged, window = result.rows["staged"], result.rows["window_interactions"]
    assert staged >= result.rows["interactions_staged"] > 0
    assert by[("warehouse write (staging)", "pipeline")].rows == staged
    assert window >= result.rows["interactions_staged"]
    for name in TRANSFORMS:
        assert by[(name, "pipeline")].rows == window, name
    assert by[("read + type + dedupe", "pipeline")].rows >= staged


def test_pipeline_limit_and_peer_agree(report) -> None:
    result, _ = report
    assert result.mismatches == []
    pipeline = result.figures["pipeline"]
    assert set(pipeline) == set(FIGURES)
    assert pipeline["contacts"] > 0 and pipeline["repeat_contacts"] > 0
    assert pipeline["journeys_started"] > pipeline["multi_contact_journeys"] > 0
    assert result.figures["limit"] == pipeline == result.figures["peer"]


def test_backfill_into_duckdb_and_postgres(report, pg_url: str) -> None:
    result, _ = report
    assert [b["warehouse"] for b in result.backfill] == ["duckdb", "postgresql"]
    for b in result.backfill:
        assert b["success"] and b["days_per_minute"] > 0 and b["minutes_for_365_days"] > 0
    # Nothing left in PostgreSQL: the backfill's schema and the BI schema its bi_views
    # published beside it (`bench_<pid>_bi` was left after every run).
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        left = conn.execute(
            sa.text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :prefix"),
            {"prefix": f"bench\\_{os.getpid()}%"},
        ).fetchall()
    engine.dispose()
    assert left == []


def test_report_files(report) -> None:
    result, out = report
    data = json.loads((out / "tiny.json").read_text())
    assert data["figures_agree"] and data["machine"]["cores"]
    assert {s["name"] for s in data["stages"]} >= set(STAGES)
    text = (out / "tiny.md").read_text()
    assert "All figures agree" in text
    for name in STAGES:
        assert f"| {name} |" in text, name
    assert data["rows"] == result.rows and data["figures"] == result.figures
    # The engine session is timed relation by relation, in the order it runs.
    from outcome_pipeline.outcomes import OUTCOME_TABLES
    from outcome_pipeline.outcomes.relations import RELATIONS

    relations = [r.name for r in RELATIONS]
    timed = list(data["relations"])
    assert [n for n in timed if n.startswith("int_")] == relations
    assert {n for n in timed if n.startswith("mart_")} == {f"mart_{t}" for t in OUTCOME_TABLES}
    assert all(data["relations"][n] >= 0 for n in timed)
    assert "| int_contact_facts |" in text
    png = Path(out / "tiny.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_big_day_reports_every_stage(tmp_path: Path) -> None:
    """``benchmarks.big_day`` (the 10M-day run) at a tiny scale: generation in a child
    process, every stage timed with its peak RSS, the figures of the day in the report."""
    from benchmarks import big_day

    out = tmp_path / "out"
    argv = ["--interactions-per-day", "2000", "--workdir", str(tmp_path / "w"), "--out", str(out)]
    assert big_day.main(argv) == 0
    report = json.loads((out / "big_day_2k.json").read_text())
    names = [s["name"] for s in report["stages"]]
    assert names == [n for n in STAGES if n != "validation"]
    assert all(s["seconds"] > 0 and s["peak_rss_mib"] > 0 for s in report["stages"])
    assert report["generation"]["peak_rss_mib"] > 0
    assert report["rows"]["interactions_staged"] > 0
    assert report["figures"]["contacts"] > 0
    assert "| identity + journeys |" in (out / "big_day_2k.md").read_text()


def test_load_bench_reports_the_writer_beside_the_engines_own_path(
    tmp_path: Path, pg_url: str
) -> None:
    """``benchmarks.load_bench`` at a tiny scale: for each engine, the writer and the engine's
    own bulk path both load every row (counted in the table after each load), and the report
    carries both figures. The server-side COPY needs the server on this machine; when it is
    (as in CI), its figure must be there."""
    from sqlalchemy.engine import make_url

    from benchmarks import load_bench

    out = tmp_path / "out"
    argv = ["--rows", "3000", "--reps", "1", "--pg-url", pg_url, "--out", str(out)]
    assert load_bench.main(argv) == 0
    report = json.loads((out / "load_3k.json").read_text())
    by_engine = {d["engine"]: d for d in report["engines"]}
    assert set(by_engine) == {"duckdb", "postgresql"}
    local = make_url(pg_url).host in (None, "", "localhost", "127.0.0.1", "::1")
    for name, d in by_engine.items():
        assert d["table_rows"] and set(d["table_rows"]) == {3000}
        assert d["writer_rows_per_s"] > 0 and d["writer_replace_rows_per_s"] > 0
        if name == "duckdb" or local:
            assert d["own_rows_per_s"] > 0 and d["own_replace_rows_per_s"] > 0, d["own_path"]
            assert len(d["table_rows"]) == 2  # one writer load, one own load
    text = (out / "load_3k.md").read_text()
    assert "| duckdb |" in text and "| postgresql |" in text
