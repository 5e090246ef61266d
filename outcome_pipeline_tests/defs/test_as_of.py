"""as_of comes from days whose interactions really landed, never from the future."""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from outcome_pipeline.defs.outcomes.assets import latest_staged_day
from outcome_pipeline.warehouse import LOAD_AUDIT, Warehouse


def audit(day: date, feed: str, files: int, quarantined: int = 0, rows: int = 0) -> dict:
    return {
        "partition_date": day,
        "feed": feed,
        "files": files,
        "files_quarantined": quarantined,
        "rows_read": rows,
        "rows_duplicate": 0,
        "rows_staged": rows,
        "rows_quarantined": 0,
        "rows_late": 0,
        "run_id": "r",
    }


def write_audit(wh: Warehouse, rows: list[dict]) -> None:
    wh.create_tables([LOAD_AUDIT])
    names = set(LOAD_AUDIT.column_names)
    table = pa.Table.from_pylist(
        [{k: v for k, v in r.items() if k in names} for r in rows], LOAD_AUDIT.arrow_schema
    )
    with wh.begin() as conn:
        wh.insert_rows(conn, LOAD_AUDIT, table)


def test_only_days_with_interactions_files_read_count(warehouse: Warehouse) -> None:
    write_audit(
        warehouse,
        [
            audit(date(2024, 1, 1), "interactions", files=2, rows=500),
            audit(date(2024, 1, 2), "interactions", files=0),  # staged empty on purpose
            audit(date(2024, 1, 3), "interactions", files=1, quarantined=1),  # unreadable only
            audit(date(2024, 1, 4), "customers", files=1, rows=10),  # another feed
            audit(date(2030, 1, 1), "interactions", files=0),  # a future range staged empty
        ],
    )
    assert latest_staged_day(warehouse) == date(2024, 1, 1)


def test_a_header_only_file_is_a_landed_day(warehouse: Warehouse) -> None:
    write_audit(warehouse, [audit(date(2024, 1, 5), "interactions", files=1, rows=0)])
    assert latest_staged_day(warehouse) == date(2024, 1, 5)


def test_days_at_or_after_the_clocks_today_never_count(warehouse: Warehouse) -> None:
    write_audit(
        warehouse,
        [
            audit(date(2026, 11, 30), "interactions", files=1, rows=9),
            audit(date(2030, 1, 1), "interactions", files=1, rows=9),  # files dated 2030
        ],
    )
    assert latest_staged_day(warehouse, not_after=date(2026, 12, 1)) == date(2026, 11, 30)
    assert latest_staged_day(warehouse, not_after=date(2026, 11, 29)) is None
    assert latest_staged_day(warehouse) == date(2030, 1, 1)
