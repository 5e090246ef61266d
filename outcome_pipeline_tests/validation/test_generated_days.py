"""Generated landing days, staged for real: every injected value defect is flagged, and nothing
else is.

Answer key: the generator's ``_manifest.json`` lists each injected defect with its file and
line. Defects that make a value untypeable (``impossible_timestamp`` of detail
``unparseable``) never reach validation: ingest.conform quarantines them as ``bad_type``.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from outcome_pipeline import generator
from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.validation import validate_day

START = date(2024, 3, 30)  # spans the DST change of 2024-03-31 in Europe/London
DAYS = 3
TZ = "Europe/London"
# Generator defect kind -> the reason code validation must give the row.
EXPECTED = {
    "unknown_channel": "unknown_value",
    "out_of_range": "out_of_range",
    "impossible_timestamp": "impossible_timestamp",
}

pytestmark = pytest.mark.usefixtures("gx_imported")


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    generator.generate(
        generator.GeneratorConfig(
            out_dir=root,
            start=START,
            days=DAYS,
            # Enough survey responses a day (calibrated profile: fewer repeat contacts, fewer
            # surveys) that each value defect stays within 4 % of a day and is injected.
            interactions_per_day=900,
            seed=20240331,
            defect_rate=0.04,
            timezone=TZ,
        )
    )
    return root


def _lineage(row: dict) -> tuple[str, int]:
    file = row.get("source_file", row.get("_source_file"))
    return str(file), int(row.get("source_line", row.get("_source_line")))


@pytest.mark.slow
@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_generated_value_defects_are_flagged_with_their_code(landing: Path, table: str) -> None:
    manifest = json.loads((landing / "_manifest.json").read_text())
    contract = CONTRACTS[table]
    checked = 0
    for day in (START + timedelta(d) for d in range(DAYS)):
        staged = stage_day(landing, contract, day, TZ)
        v = validate_day(staged.staged, contract, day, TZ, engine="auto")
        assert v.success, [e.message for e in v.failed_expectations if e.level == "dataset"]
        assert v.disagreements == []
        rows = {_lineage(r): i for i, r in enumerate(staged.staged.to_pylist())}
        conformed_out = {
            (r["source_file"], r["source_line"]): r["reason_code"]
            for r in staged.quarantined.to_pylist()
        }
        defects = [
            d for d in manifest["defects"] if d["table"] == table and d["day"] == day.isoformat()
        ]
        injected = {(str(d["file"]), int(d["line"])) for d in defects}
        for d in defects:
            if d["kind"] not in EXPECTED:
                continue
            where = (str(d["file"]), int(d["line"]))
            if where in rows:
                codes = {f.code for f in v.row_failures.get(rows[where], [])}
                assert EXPECTED[d["kind"]] in codes, (d, codes)
            else:  # an unparseable timestamp: typed away by conform, with its own code
                assert d.get("detail") == "unparseable" and where in conformed_out, d
            checked += 1
        # No false positives: every row validation quarantines carries an injected defect.
        flagged = {_lineage(staged.staged.slice(i, 1).to_pylist()[0]) for i in v.row_failures}
        assert flagged <= injected, sorted(flagged - injected)[:5]
    if table in ("interactions", "survey_responses"):
        assert checked > 0
