"""Validation end to end: every generated defect is quarantined with its reason, nothing lost."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.defs.ingest.assets import staging_assets
from outcome_pipeline.defs.resources import (
    LandingResource,
    ValidationResource,
    WarehouseResource,
)
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.warehouse import Warehouse

pytestmark = pytest.mark.slow
DAY = "2024-01-02"
# Where the Data Docs are said to be served (any base: the link is built from it).
DOCS_URL = "http://127.0.0.1:8999/docs"
# Generator defect kind → reason codes the pipeline may give it (an unparseable timestamp is
# a type error; a required value left empty is missing_key or missing_required).
EXPECTED = {
    "bad_type": {"bad_type"},
    "missing_key": {"missing_key", "missing_required"},
    "impossible_timestamp": {"impossible_timestamp", "bad_type"},
    "unknown_channel": {"unknown_value"},
    "bad_encoding": {"bad_encoding"},
    "out_of_range": {"out_of_range"},
}


def occurring(needles: set[str], text: str, chars: str, within: str) -> set[str]:
    """The needles that occur in ``text`` (as substrings), for needles made of the regex
    character class ``chars`` only, each with a match of ``within``: an occurrence lies inside
    a maximal run of ``chars`` that matches ``within``, so only those runs are searched, not the
    whole text once per needle (thousands of needles over megabytes of Data Docs)."""
    runs = [r for r in re.findall(f"{chars}+", text) if re.search(within, r)]
    haystack = "\n".join(runs)  # "\n" is in neither class: no needle spans two runs
    return {n for n in needles if n in haystack}


def test_occurring_finds_a_needle_anywhere_inside_a_longer_run() -> None:
    text = "<td>mail:xa.b@c.de,</td> <p>tel +44 20 7946 0018 9</p> 1234567890123"
    emails = {"a.b@c.de", "x@y.zz", "xa.b@c.de"}
    assert occurring(emails, text, r"[\w.+@-]", "@") == {"a.b@c.de", "xa.b@c.de"}
    phones = {"20 7946 0018", "+44 20 7946 0018", "4567890123", "999 999 9999"}
    assert occurring(phones, text, r"[\d +]", r"\d") == phones - {"999 999 9999"}


@pytest.fixture(scope="module")
def defective_landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("landing")
    generate(
        GeneratorConfig(
            out_dir=root,
            start=date(2024, 1, 1),
            days=2,
            interactions_per_day=3000,
            seed=5,
            defect_rate=0.01,
        )
    )
    return root, json.loads((root / "_manifest.json").read_text())


def test_each_defect_is_quarantined_with_its_reason(defective_landing, warehouse_url, tmp_path):
    root, manifest = defective_landing
    url, schema = warehouse_url
    docs = tmp_path / "docs"
    result = dg.materialize(
        staging_assets,
        partition_key=DAY,
        resources={
            "warehouse": WarehouseResource(url=url, schema_name=schema),
            "landing": LandingResource(root=str(root), timezone="Europe/London"),
            # Small CRM change sets (~50 rows a day) make 1% defects a noisy share.
            "validation": ValidationResource(
                data_docs_dir=str(docs), data_docs_url=DOCS_URL, max_quarantine_share=0.2
            ),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    wh = Warehouse(url, schema)
    try:
        quarantined = {}
        for name in CONTRACTS:
            for row in wh.read_table(f"quarantine_{name}").to_pylist():
                quarantined[(row["source_file"], row["source_line"])] = row
        defects = [d for d in manifest["defects"] if d["day"] == DAY]
        assert {d["kind"] for d in defects} == set(EXPECTED)
        for d in defects:
            row = quarantined.get((d["file"], d["line"]))
            assert row is not None, d
            codes = set(row["reason_code"].split(","))
            assert codes & EXPECTED[d["kind"]], (d, row["reason_code"], row["message"])
            assert row["run_id"] and row["raw_record"]
        # Nothing but the planted defects is quarantined, and the rest of the day is staged.
        assert len(quarantined) == len(defects)
        for name, contract in CONTRACTS.items():
            counts = manifest["tables"][name].get(DAY)
            if not counts:
                continue
            staged = wh.count(contract.staging_table)
            assert staged == counts["rows_written"] - counts["duplicates"] - counts["defective"]
        audit = wh.read_table("load_audit").to_pylist()
        assert len(audit) == len(CONTRACTS)
        for a in audit:
            assert a["rows_read"] == a["rows_staged"] + a["rows_quarantined"] + a["rows_duplicate"]
            assert a["rows_read"] == manifest["tables"][a["feed"]][DAY]["rows_written"]
    finally:
        wh.dispose()

    # Data Docs per feed table, linked from the materialization by the URL where
    # `outcome-pipeline data-docs` serves the folder (a browser refuses file:// links from the
    # UI), without raw identifiers.
    mats = {
        m.asset_key.to_user_string(): m.materialization.metadata
        for m in result.get_asset_materialization_events()
    }
    link = mats["stg_interactions"]["data_docs"].value
    assert link == f"{DOCS_URL}/interactions/index.html"
    assert (docs / link.removeprefix(f"{DOCS_URL}/")).is_file()
    pages = "".join(p.read_text(errors="replace") for p in docs.rglob("*.html"))
    landed = "".join(p.read_text(errors="replace") for p in root.rglob("*.csv"))
    emails = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", landed))
    phones = set(re.findall(r"\+?\d[\d ]{9,}\d", landed))
    assert len(emails) > 100 and len(phones) > 100
    assert not occurring(emails, pages, r"[\w.+@-]", "@")
    assert not occurring(phones, pages, r"[\d +]", r"\d")


def test_files_that_drift_or_break(tmp_path: Path, warehouse_url) -> None:
    """Empty file: zero rows. Extra column: kept. Missing required column: the file is
    quarantined with a message naming the column and the file."""
    url, schema = warehouse_url
    folder = tmp_path / "landing" / "surveys" / DAY
    folder.mkdir(parents=True)
    header = ",".join(CONTRACTS["survey_responses"].column_names)
    row = "r1,csat,5,,,c1,,,2024-01-02T09:00:00Z,2024-01-02T10:00:00Z,true,,2024-01-02T10:00:00Z"
    (folder / "survey_responses.csv").write_text(f"{header},channel_hint\n{row},web\n")
    (folder / "survey_responses_empty.jsonl").write_text("")
    no_score = header.replace(",score", "")
    (folder / "survey_responses_noscore.csv").write_text(f"{no_score}\n{row.replace(',5,', ',')}\n")
    result = dg.materialize(
        staging_assets,
        selection="stg_survey_responses",
        partition_key=DAY,
        resources={
            "warehouse": WarehouseResource(url=url, schema_name=schema),
            "landing": LandingResource(root=str(tmp_path / "landing"), timezone="Europe/London"),
            "validation": ValidationResource(data_docs_dir=str(tmp_path / "docs")),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["load_ok"].passed  # a lost file blocks downstream
    assert not checks["drift_and_late_rows"].passed  # drift is a warning
    assert checks["drift_and_late_rows"].metadata["files_with_extra_columns"].value == [
        f"surveys/{DAY}/survey_responses.csv: channel_hint"
    ]
    wh = Warehouse(url, schema)
    try:
        staged = wh.read_table("stg_survey_responses").to_pylist()
        assert [(r["response_id"], json.loads(r["extra_fields"])) for r in staged] == [
            ("r1", {"channel_hint": "web"})
        ]
        lost = wh.read_table("quarantine_files").to_pylist()
        assert [r["source_file"] for r in lost] == [f"surveys/{DAY}/survey_responses_noscore.csv"]
        assert "score" in lost[0]["error"] and "survey_responses_noscore.csv" in lost[0]["error"]
        audit = wh.read_table("load_audit").to_pylist()[0]
        assert (audit["files"], audit["files_quarantined"], audit["rows_read"]) == (3, 1, 1)
    finally:
        wh.dispose()
