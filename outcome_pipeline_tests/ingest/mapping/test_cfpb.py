"""A real public dataset end to end through staging: 349 CFPB consumer complaints (Sept 2016).

The figures asserted here are the ones quoted in docs/sources/cfpb_complaints.md.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date
from pathlib import Path

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.ingest.mapping import SHIPPED_DIR, compile_mapping
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.validation.collector import DayValidations

SAMPLE = Path(__file__).parent / "data" / "cfpb_complaints_2016-09.csv"
DAY = date(2016, 9, 17)  # the sample's last day: delivered as one file that day
TZ = "America/New_York"


def test_cfpb_complaints_stage_with_every_row_accounted_for(tmp_path: Path) -> None:
    folder = tmp_path / "cfpb" / DAY.isoformat()
    folder.mkdir(parents=True)
    shutil.copy(SAMPLE, folder / "complaints.csv")
    mapping = compile_mapping(SHIPPED_DIR / "cfpb_complaints.toml", TZ)
    day = stage_day(
        tmp_path,
        CONTRACTS["interactions"],
        DAY,
        TZ,
        validator=DayValidations(TZ, "auto"),
        mappings=[mapping],
    )
    assert day.rows_read == 349
    assert day.rows_read == day.rows_staged + day.rows_quarantined + day.rows_duplicate
    staged = day.staged.to_pylist()
    assert len(staged) == 331 and day.rows_duplicate == 0
    assert Counter(r["channel"] for r in staged) == {"web": 314, "phone": 17}
    assert Counter(r["disposition"] for r in staged) == {"resolved": 272, "follow_up": 59}
    reasons = Counter(day.quarantined["message"].to_pylist())
    assert sum(reasons.values()) == 18
    assert all("Submitted via=" in m for m in reasons)
    # Complaints received on earlier days than the delivery day are counted late.
    assert day.late_rows == sum(1 for r in staged if r["queued_at"].date() != DAY)
    assert {r["source_mapping"] for r in staged} == {"cfpb_complaints@1"}
