"""A warehouse holding the fixture week's outcome tables (``outcomes/fixture.py``), plus a small
hand-made load audit and quarantine, for the report's tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pyarrow as pa
import pytest

from outcome_pipeline.outcomes import OUTCOME_TABLES, compute_outcomes
from outcome_pipeline.warehouse import LOAD_AUDIT, PartitionWrite, Warehouse
from outcome_pipeline.warehouse.tables import ALL_TABLES, QUARANTINE_TABLES
from outcome_pipeline_tests.conftest import _drop_schema
from outcome_pipeline_tests.outcomes import fixture as fx

AS_OF = fx.lt("06-25 00:00")
END = fx.DAYS[-1] + timedelta(days=1)
# Per day (D1, D2, D3): interactions staged 14/6/2, quarantined 2/1/0, late 0/1/0.
AUDIT = {
    ("interactions", fx.D1): (14, 2, 0),
    ("interactions", fx.D2): (6, 1, 1),
    ("interactions", fx.D3): (2, 0, 0),
    ("customers", fx.D1): (5, 1, 0),
}
# Quarantined rows (feed, day, reason_code): the interactions' and the customer's above.
REJECTS = (
    ("interactions", fx.D1, "bad_type"),
    ("interactions", fx.D1, "missing_required,bad_type"),
    ("interactions", fx.D2, "bad_type"),
    ("customers", fx.D1, "bad_value"),
)


def audit_rows() -> pa.Table:
    rows = [
        {
            "partition_date": day,
            "feed": feed,
            "files": 1,
            "files_quarantined": 0,
            "rows_read": staged + quarantined,
            "rows_duplicate": 0,
            "rows_staged": staged,
            "rows_quarantined": quarantined,
            "rows_late": late,
            "rows_repaired": 0,
            "rows_before_start": 0,
        }
        for (feed, day), (staged, quarantined, late) in AUDIT.items()
    ]
    return pa.Table.from_pylist(rows, schema=LOAD_AUDIT.arrow_schema)


def quarantine_rows(feed: str) -> pa.Table:
    table = QUARANTINE_TABLES[feed]
    rows = [
        {c: None for c in table.column_names}
        | {
            "partition_date": day,
            "reason_code": reason,
            "source_file": f"{feed}.csv",
            "source_line": i,
            # A raw row with an identifier: the report must never show it.
            "raw_record": '{"email": "alice@example.com"}',
        }
        for i, (f, day, reason) in enumerate(REJECTS)
        if f == feed
    ]
    return pa.Table.from_pylist(rows, schema=table.arrow_schema)


def load_fixture(wh: Warehouse) -> dict[str, pa.Table]:
    out = compute_outcomes(fx.inputs(), fx.DAYS, AS_OF)
    wh.create_tables([*ALL_TABLES, *OUTCOME_TABLES.values()])
    writes = [PartitionWrite(t, fx.DAYS[0], END, out[name]) for name, t in OUTCOME_TABLES.items()]
    writes.append(PartitionWrite(LOAD_AUDIT, fx.DAYS[0], END, audit_rows()))
    writes += [
        PartitionWrite(QUARANTINE_TABLES[f], fx.DAYS[0], END, quarantine_rows(f))
        for f in ("interactions", "customers")
    ]
    wh.replace_partitions(writes)
    return out


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def fixture_warehouse(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Warehouse, dict[str, pa.Table]]]:
    """The fixture week in a DuckDB file, then in a PostgreSQL schema; loaded once per module
    (the report only reads it)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('report_wh')}/warehouse.duckdb"
    else:
        url = request.getfixturevalue("pg_url")
    wh = Warehouse(url, schema)
    try:
        yield wh, load_fixture(wh)
    finally:
        wh.dispose()
        if request.param == "postgres":
            _drop_schema(url, schema)
