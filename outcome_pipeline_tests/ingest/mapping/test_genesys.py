"""The same seed through the Genesys Cloud conversation details mapping and the native contract.

The generator's interactions, rewritten as analytics conversation details job pages (one
conversation per leg, one vendor file per native file: redeliveries, stale versions and late
files included), stage to the native staging table *reduced to what a conversation detail
record carries* (:data:`NOT_CARRIED` emptied, :data:`COARSENED` applied), and the outcome
engine gives the same outcome tables from both. The last test shows what the metrics do
without the columns Genesys cannot carry.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.generator.vendor import (
    GENESYS_CARRIES,
    GENESYS_CHANNELS,
    apply_formats,
    parse_formats,
)
from outcome_pipeline.ingest.mapping import SHIPPED_DIR, compile_mapping
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.outcomes import OutcomeConfig, OutcomeInputs, compute_outcomes

pytestmark = pytest.mark.slow  # generates, stages and computes outcomes twice: ~25 s

TZ = "Europe/London"
START = date(2024, 1, 1)
GENERATED = 4
DAYS = [START + timedelta(days=i) for i in range(GENERATED)]
OUT_DAYS = DAYS[1:3]
AS_OF = datetime.combine(START + timedelta(days=GENERATED), time(), ZoneInfo(TZ))
# What a conversation detail record cannot carry (the complement of GENESYS_CARRIES):
# - parent_interaction_id: a transfer stays inside its conversation in Genesys; a leg that
#   arrives as its own conversation names no parent;
# - customer_id, contact_reason, case_id: participant attributes a center names itself;
# - first_response_at: the record has no first-reply time for email and messaging.
NOT_CARRIED = [
    "parent_interaction_id",
    "customer_id",
    "contact_reason",
    "case_id",
    "first_response_at",
]
# Carried, but coarser.
COARSENED = [
    "updated_at := end of the last segment (ended_at + acw_seconds): no modification time",
    "web contacts left out: Genesys has no such media type",
    "text fields trimmed; a field of spaces is missing (every mapping)",
]


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    native = tmp_path_factory.mktemp("native")
    generate(GeneratorConfig(native, START, GENERATED, 300, seed=23, timezone=TZ))
    vendor = tmp_path_factory.mktemp("vendor") / "landing"
    shutil.copytree(native, vendor)
    apply_formats(vendor, DAYS, parse_formats(["interactions=genesys"]), TZ)
    return native, vendor


def _stage(root: Path, mappings: list) -> pa.Table:
    days = [stage_day(root, CONTRACTS["interactions"], d, TZ, mappings=mappings) for d in DAYS]
    for d in days:  # nothing lost on the way: every source row is accounted for
        assert d.rows_quarantined == 0, d.quarantined.to_pylist()[:3]
        assert d.rejected_files.num_rows == 0, d.rejected_files.to_pylist()
        assert d.rows_read == d.rows_staged + d.rows_quarantined + d.rows_duplicate
    return pa.concat_tables([d.staged for d in days])


def _staged_native(root: Path) -> dict[str, pa.Table]:
    out = {}
    for name, contract in CONTRACTS.items():
        days = [stage_day(root, contract, d, TZ, mappings=[]) for d in DAYS]
        out[name] = pa.concat_tables([d.staged for d in days])
    return out


@pytest.fixture(scope="module")
def staged(roots) -> tuple[dict[str, pa.Table], pa.Table]:
    native_root, vendor_root = roots
    genesys = compile_mapping(SHIPPED_DIR / "genesys_conversations.toml", TZ)
    return _staged_native(native_root), _stage(vendor_root, [genesys])


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def reduce_to_genesys(legs: pa.Table) -> pa.Table:
    """The native staged interactions as a conversation detail record carries them."""
    t = legs.filter(pc.is_in(legs["channel"], pa.array(list(GENESYS_CHANNELS))))
    for name in NOT_CARRIED:
        t = _set(t, name, pa.nulls(t.num_rows, t[name].type))
    acw = pc.cast(pc.multiply(pc.fill_null(t["acw_seconds"], 0), 1_000_000), pa.duration("us"))
    t = _set(t, "updated_at", pc.add(t["ended_at"], acw))
    for name in t.column_names:
        if pa.types.is_string(t[name].type) and name not in ("source_file", "extra_fields"):
            col = pc.utf8_trim_whitespace(t[name])
            t = _set(t, name, pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col))
    return t


def _rows(table: pa.Table, columns: list[str]) -> list[dict]:
    return table.select(columns).sort_by([(c, "ascending") for c in columns]).to_pylist()


def test_not_carried_is_the_complement_of_what_genesys_carries() -> None:
    names = set(CONTRACTS["interactions"].column_names)
    assert set(NOT_CARRIED) == names - set(GENESYS_CARRIES)


def test_genesys_mapping_stages_what_the_native_contract_carries(staged) -> None:
    native, vendor = staged
    columns = ["partition_date", *CONTRACTS["interactions"].column_names]
    want = reduce_to_genesys(native["interactions"])
    assert vendor.num_rows > 1000
    assert _rows(vendor, columns) == _rows(want, columns)
    assert set(vendor["source_mapping"].to_pylist()) == {"genesys_conversations@1"}
    assert set(vendor["channel"].to_pylist()) == set(GENESYS_CHANNELS)


def _outcomes(tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    return compute_outcomes(OutcomeInputs(**tables), OUT_DAYS, AS_OF, OutcomeConfig(timezone=TZ))


@pytest.fixture(scope="module")
def outcomes(staged) -> tuple[dict[str, pa.Table], dict[str, pa.Table], dict[str, pa.Table]]:
    native, vendor = staged
    reduced = {**native, "interactions": reduce_to_genesys(native["interactions"])}
    full = {
        **native,
        "interactions": native["interactions"].filter(
            pc.is_in(native["interactions"]["channel"], pa.array(list(GENESYS_CHANNELS)))
        ),
    }
    return _outcomes(full), _outcomes(reduced), _outcomes({**native, "interactions": vendor})


def test_genesys_gives_the_outcomes_of_the_native_feed_it_carries(outcomes) -> None:
    _, reduced, vendor = outcomes
    for name, table in vendor.items():
        assert table.num_rows > 0, name
        assert _rows(table, table.column_names) == _rows(reduced[name], table.column_names), name


def _sum(table: pa.Table, column: str, channels: tuple[str, ...] | None = None) -> int:
    if channels:
        table = table.filter(pc.is_in(table["channel"], pa.array(channels)))
    return pc.sum(table[column]).as_py() or 0


def test_what_the_metrics_do_without_the_columns_genesys_cannot_carry(outcomes) -> None:
    full, _, genesys = outcomes
    daily, g_daily = full["daily_outputs"], genesys["daily_outputs"]
    # Transfers: natively some handled legs go on to another leg; as separate conversations
    # without a parent none do, the transfer rate is 0 and every leg is a contact of its own.
    assert _sum(daily, "legs_transferred") > 0 and _sum(g_daily, "legs_transferred") == 0
    contacts = "journey_contacts"
    assert genesys[contacts].num_rows > full[contacts].num_rows
    assert set(genesys[contacts]["legs"].to_pylist()) == {1}
    # First response time: natively measured on email, social and messaging; without it,
    # unknown (NULL), never 0 seconds.
    asynchronous = ("email", "social", "messaging")
    assert _sum(daily, "frt_legs_responded", asynchronous) > 0
    assert _sum(g_daily, "frt_legs_responded", asynchronous) == 0
    frt = g_daily.filter(pc.is_in(g_daily["channel"], pa.array(asynchronous)))["frt_mean_seconds"]
    assert frt.null_count == len(frt)
    # What it carries is measured as natively: answered, handled, talk and hold, abandons.
    for column in ("legs_offered", "legs_handled", "legs_abandoned"):
        assert _sum(g_daily, column) == _sum(daily, column), column
