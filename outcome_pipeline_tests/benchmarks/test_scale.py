"""Guard rail for the backfill benchmark (benchmarks/scale.py): a tiny backfill as one run and
as two concurrent runs gives one complete row per configuration, the same outcome rows
whatever the number of runs, and a headline table naming each.

PostgreSQL only (the concurrency target; each run is a process of its own, so DuckDB too would
double the test's minute). DuckDB's writers taking turns are tested in
warehouse/test_parallel_writers.py. No timing assertions: the figures live in the report.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from benchmarks.scale import main, ok, windows
from benchmarks.scale_report import headline, runs_label

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DAYS = 12


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, pg_url: str):
    out = tmp_path_factory.mktemp("results")
    argv = [
        "--landing",
        str(tmp_path_factory.mktemp("data") / "landing"),
        "--days",
        str(DAYS),
        "--interactions-per-day",
        "1500",
        "--runs",
        "1",
        "2",
        "--chunk-days",
        "4",
        "--limit-days",
        "2",
        "--pg-url",
        pg_url,
        "--no-duckdb",
        "--out",
        str(out),
        "--name",
        "tiny",
    ]
    return main(argv), out


def test_windows_are_disjoint_and_cover_the_range() -> None:
    days = [date(2024, 3, d) for d in range(1, 12)]
    assert windows(days, 2) == [(days[0], days[5]), (days[6], days[10])]
    assert windows(days, 4, days_per_run=5) == [
        (days[0], days[4]),
        (days[5], days[9]),
        (days[10], days[10]),
    ]
    assert windows(days, 1) == [(days[0], days[10])]
    # A cap on concurrent outcome runs shows in the report's rows.
    assert runs_label({"concurrent_runs": 4, "outcome_runs_at_once": 2}) == "4 (outcomes 2)"
    assert runs_label({"concurrent_runs": 2, "outcome_runs_at_once": 2}) == "2"


def test_one_row_per_warehouse_and_concurrency(report) -> None:
    result, _ = report
    configs = result["configs"]
    assert [(c["warehouse"], c["concurrent_runs"], c["windows"]) for c in configs] == [
        ("postgresql", 1, 1),
        ("postgresql", 2, 2),
    ]
    for c in configs:
        assert c["success"], c
        for phase in ("staging", "outcomes"):
            runs = c[phase]["runs"]
            assert len(runs) == c["windows"]
            # The windows cover the range, in order, without overlap.
            assert runs[0]["first"] == "2024-03-04" and runs[-1]["last"] == "2024-03-15"
            assert all(r["peak_rss_mib"] > 0 for r in runs)
        assert c["staging"]["max_wave_rss_mib"] >= c["staging"]["max_run_peak_rss_mib"]
        assert c["days"] == DAYS and c["days_per_minute"] > 0
    # The staging asset analyses what it wrote; the harness no longer does it between phases.
    assert not any("analyze" in c for c in configs)
    assert ok(result)


def test_concurrent_runs_write_the_same_outcomes_as_one(report) -> None:
    result, _ = report
    by = {(c["warehouse"], c["concurrent_runs"]): c for c in result["configs"]}
    one, two = by[("postgresql", 1)]["fingerprint"], by[("postgresql", 2)]["fingerprint"]
    assert one == two
    assert by[("postgresql", 2)]["equal_to_one_run"] is True
    # Every day has its daily rows; the journeys are there too.
    assert one["daily_outcomes"]["rows"] >= DAYS
    assert one["journeys"]["rows"] > 0 and one["journey_contacts"]["rows"] > 0


def test_fingerprints_tell_different_outputs_apart(report) -> None:
    result, _ = report
    configs = [json.loads(json.dumps(c)) for c in result["configs"][:2]]
    configs[1]["fingerprint"]["journeys"]["hash"] = "0"
    from benchmarks.scale_report import compare

    compare(configs)
    assert configs[1]["equal_to_one_run"] is False
    assert not ok({"configs": configs})


def test_limit_and_report_files(report) -> None:
    result, out = report
    assert result["limit"]["measured_days"] == 2 and result["limit"]["seconds_per_day"] > 0
    assert result["limit"]["seconds_for_range"] > 0
    text = (out / "tiny.md").read_text()
    assert text.count("| postgresql |") == 4  # two configurations, in two tables
    assert "12 × 1500" in headline([json.loads((out / "tiny.json").read_text())])
    assert set(result["scaling"]) == {"postgresql"}
    assert set(result["scaling"]["postgresql"]) == {1, 2}


def test_an_existing_landing_of_other_data_is_refused(report, tmp_path: Path) -> None:
    result, _ = report
    landing = result["args"]["landing"]
    with pytest.raises(SystemExit, match="holds other data"):
        main(["--landing", landing, "--days", str(DAYS), "--interactions-per-day", "999"])
