"""The same seed through the Amazon Connect mapping and through the native contract.

The generator's interactions, rewritten as Connect contact records (one vendor file per
native file: redeliveries and late files included), stage to the same rows as the native
files, for every column a contact record carries. What Connect cannot carry is listed in
``CONNECT_CARRIES``'s complement, and shown empty here.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.generator.vendor import (
    CONNECT_CARRIES,
    CONNECT_CHANNELS,
    rewrite_interactions_as_connect,
)
from outcome_pipeline.ingest.mapping import SHIPPED_DIR, compile_mapping
from outcome_pipeline.ingest.stage import stage_day

TZ = "Europe/London"
START = date(2024, 1, 1)
DAYS = [START + timedelta(days=i) for i in range(3)]


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    native = tmp_path_factory.mktemp("native")
    generate(
        GeneratorConfig(out_dir=native, start=START, days=3, interactions_per_day=400, seed=11)
    )
    vendor = tmp_path_factory.mktemp("vendor") / "landing"
    shutil.copytree(native, vendor)
    rewrite_interactions_as_connect(vendor, DAYS, TZ)
    return native, vendor


def _staged(root: Path, mappings: list) -> tuple[pa.Table, list]:
    contract = CONTRACTS["interactions"]
    days = [stage_day(root, contract, d, TZ, mappings=mappings) for d in DAYS]
    return pa.concat_tables([d.staged for d in days]), days


def test_connect_mapping_stages_what_the_native_contract_stages(landed) -> None:
    native_root, vendor_root = landed
    connect = compile_mapping(SHIPPED_DIR / "amazon_connect_ctr.toml", TZ)
    native, _ = _staged(native_root, [])
    vendor, vendor_days = _staged(vendor_root, [connect])
    carried = ["partition_date", *CONNECT_CARRIES]
    expressible = pc.is_in(native["channel"], pa.array(list(CONNECT_CHANNELS)))
    want = native.filter(expressible).select(carried).sort_by("interaction_id")
    got = vendor.select(carried).sort_by("interaction_id")
    assert got.num_rows > 1000
    assert got.to_pylist() == want.to_pylist()
    # Lineage: each row names the mapping it came through; native rows name none.
    assert set(vendor["source_mapping"].to_pylist()) == {"amazon_connect_ctr@1"}
    assert native["source_mapping"].null_count == native.num_rows
    # Nothing quarantined, and the accounting closes day by day.
    for d in vendor_days:
        assert d.rows_quarantined == 0 and d.files_quarantined == 0
        assert d.rows_read == d.rows_staged + d.rows_quarantined + d.rows_duplicate
    # What the contact record cannot carry stays empty.
    for name in ("customer_id", "customer_email", "case_id", "contact_reason", "disposition"):
        assert vendor[name].null_count == vendor.num_rows
