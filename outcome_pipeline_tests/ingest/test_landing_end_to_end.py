"""A messy landing tree through the staging asset: every file is in staging or quarantine."""

from __future__ import annotations

import gzip
import json
import os
from datetime import date
from pathlib import Path

import pytest

from outcome_pipeline.warehouse import Warehouse
from outcome_pipeline_tests.defs.test_staging_assets import RANGE_END, RANGE_START, materialize
from outcome_pipeline_tests.ingest.test_landing import day_folder, rows, write_csv
from outcome_pipeline_tests.ingest.test_readers import write_jsonl

pytestmark = pytest.mark.slow

D1, D2 = date(2024, 3, 30), date(2024, 3, 31)


def messy_surveys(root: Path, outside: Path) -> None:
    for d in (D1, D2):
        f = day_folder(root, d)
        tag = d.isoformat()
        write_csv(f / "survey_responses.csv", rows(f"{tag}-a"))
        write_csv(f / "survey_responses_UP.CSV", rows(f"{tag}-b"))
        text = write_jsonl(root.parent / f"{tag}.jsonl", rows(f"{tag}-c")).read_bytes()
        (f / "survey_responses_c.jsonl.gz").write_bytes(gzip.compress(text))
        write_jsonl(f / "survey_responses.json", rows(f"{tag}-json"))
        write_csv(f / "resent" / "survey_responses.csv", rows(f"{tag}-sub"))
    f2 = root / "surveys" / D2.isoformat()
    os.symlink(outside, f2 / "survey_responses_out.csv")
    os.symlink(f2 / "survey_responses.csv", f2 / "survey_responses_twice.csv")
    write_csv(root / "surveys" / "2024-3-31" / "survey_responses.csv", rows("loose"))
    with (f2 / "survey_responses_long.jsonl").open("w") as out:
        out.write(json.dumps(rows("long-ok")[0]) + "\n")
        out.write('{"response_id": "x", "comment": "' + "y" * (33 << 20) + '"}\n')


def every_file(feed_dir: Path) -> set[str]:
    return {
        (Path(parent) / name).relative_to(feed_dir.parent).as_posix()
        for parent, _, names in os.walk(feed_dir)
        for name in names
    }


def test_every_landed_file_is_staged_or_quarantined_and_accounting_closes(
    tmp_path: Path, warehouse_url
) -> None:
    url, schema = warehouse_url
    root = tmp_path / "landing"
    messy_surveys(root, write_csv(tmp_path / "outside.csv", rows("secret")))

    tags = {RANGE_START: D1.isoformat(), RANGE_END: D2.isoformat()}
    result = materialize(root, url, schema, tags=tags, raise_on_error=False)

    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    # Before: the outside link failed the step for both days; without it load_ok passed.
    assert checks["load_ok"].passed is False
    assert checks["row_accounting"].passed is True
    wh = Warehouse(url, schema)
    try:
        lost = wh.read_table("quarantine_files").to_pylist()
        staged = wh.read_table("stg_survey_responses").to_pylist()
        bad_rows = wh.read_table("quarantine_survey_responses").to_pylist()
        audit = wh.read_table("load_audit").to_pylist()
    finally:
        wh.dispose()
    by_file = {(r["partition_date"], r["source_file"]): r["error"].split(":")[0] for r in lost}
    assert by_file == {
        (D1, "surveys/2024-03-30/survey_responses.json"): "unknown_name",
        (D1, "surveys/2024-03-30/resent/survey_responses.csv"): "subfolder",
        (D2, "surveys/2024-03-31/survey_responses.json"): "unknown_name",
        (D2, "surveys/2024-03-31/resent/survey_responses.csv"): "subfolder",
        (D2, "surveys/2024-03-31/survey_responses_out.csv"): "outside_root",
        (D2, "surveys/2024-03-31/survey_responses_twice.csv"): "duplicate_link",
        (D2, "surveys/2024-3-31/survey_responses.csv"): "bad_day_folder",
    }
    assert [(r["source_line"], r["reason_code"]) for r in bad_rows] == [(2, "oversized_line")]
    assert not any(r["response_id"].startswith("secret") for r in staged)
    assert len(staged) == 2 * 6 + 1  # three readable files a day, the long file's good line
    assert [a["files_quarantined"] for a in audit] == [2, 5]
    assert sum(a["rows_read"] for a in audit) == len(staged) + len(bad_rows)
    found = {r["source_file"] for r in staged + bad_rows + lost}
    assert every_file(root / "surveys") == found
