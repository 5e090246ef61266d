"""One simulated day arriving from several vendors, against the same seed in native files.

The generator writes the seed natively; a copy is rewritten as the vendors deliver it: phone
and chat contacts as Amazon Connect contact records, email contacts as Zendesk tickets
(Fivetran TICKET table), CRM customers and cases as Salesforce Data Loader exports (Contact,
Case), survey responses as Qualtrics CSV exports; the channels no vendor takes (social,
messaging, web) and the subscription events stay native files beside them. Staged through
the shipped mappings, the vendor copy must give exactly the native staging tables *reduced to
what the vendors carry* (:data:`NOT_CARRIED`: emptied; :data:`COARSENED`: what the vendor
keeps of them), and the outcome engine must give exactly the same outcome tables from both.
The last test shows what the metrics do without the columns the vendors cannot carry.
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
    CONNECT_CARRIES,
    QUALTRICS_CARRIES,
    SALESFORCE_CASE_CARRIES,
    SALESFORCE_CONTACT_CARRIES,
    ZENDESK_CARRIES,
    apply_formats,
    parse_formats,
)
from outcome_pipeline.ingest.mapping import SHIPPED_DIR
from outcome_pipeline.ingest.mapping.registry import compile_all, for_table, mapping_files
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.outcomes import OutcomeConfig, OutcomeInputs, compute_outcomes

pytestmark = pytest.mark.slow  # generates, stages and computes outcomes twice: ~35 s

TZ = "Europe/London"
START = date(2024, 1, 1)
GENERATED = 4
DAYS = [START + timedelta(days=i) for i in range(GENERATED)]
OUT_DAYS = DAYS[1:3]
AS_OF = datetime.combine(START + timedelta(days=GENERATED), time(), ZoneInfo(TZ))
FORMATS = [
    "interactions:phone,chat=amazon-connect",
    "interactions:email=zendesk",
    "crm=salesforce",
    "surveys=qualtrics",
]
VENDOR_CHANNELS = {"phone": CONNECT_CARRIES, "chat": CONNECT_CARRIES, "email": ZENDESK_CARRIES}
CARRIES = {
    "customers": SALESFORCE_CONTACT_CARRIES,
    "cases": (*SALESFORCE_CASE_CARRIES, "status"),
    "survey_responses": QUALTRICS_CARRIES,
}
# What each vendor cannot carry (the complement of its CARRIES), written out for the reader.
NOT_CARRIED = {
    "amazon-connect (phone, chat)": [
        "customer_id",
        "customer_email",
        "contact_reason",
        "case_id",
        "first_response_at",
        "disposition",
    ],
    "zendesk (email)": [
        "parent_interaction_id",
        "customer_id",
        "customer_phone",
        "queue",
        "team",
        "contact_reason",
        "case_id",
        "answered_at",
        "first_response_at",
        "talk_seconds",
        "hold_seconds",
        "acw_seconds",
        "disposition",
    ],
    "salesforce Contact (customers)": ["segment", "plan", "mrr"],
    "salesforce Case (cases)": [],
    "qualtrics (survey_responses)": ["case_id", "customer_id", "customer_phone"],
}
# Carried, but coarser: Zendesk's ended_at is the ticket's last change (updated_at); an
# outbound email is no ticket (left out); Salesforce has one closed state (solved -> closed);
# a mapping trims the text it reads (the native reader keeps leading/trailing spaces).
COARSENED = {
    "every mapping": ["text fields trimmed; a field of spaces is missing"],
    "zendesk (email)": ["ended_at := updated_at", "outbound emails left out"],
    "salesforce Case (cases)": ["status solved -> closed"],
}


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    native = tmp_path_factory.mktemp("native")
    generate(GeneratorConfig(native, START, GENERATED, 300, seed=19, timezone=TZ))
    vendor = tmp_path_factory.mktemp("vendor") / "landing"
    shutil.copytree(native, vendor)
    apply_formats(vendor, DAYS, parse_formats(FORMATS), TZ)
    return native, vendor


def _stage(root: Path, mappings: list) -> dict[str, pa.Table]:
    out = {}
    for name, contract in CONTRACTS.items():
        mine = for_table(mappings, name)
        days = [stage_day(root, contract, d, TZ, mappings=mine) for d in DAYS]
        for d in days:  # nothing lost on the way: every source row is accounted for
            assert d.rows_quarantined == 0, d.quarantined.to_pylist()[:3]
            assert d.rejected_files.num_rows == 0, d.rejected_files.to_pylist()
            assert d.rows_read == d.rows_staged + d.rows_quarantined + d.rows_duplicate
        out[name] = pa.concat_tables([d.staged for d in days])
    return out


@pytest.fixture(scope="module")
def staged(roots: tuple[Path, Path]) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    native_root, vendor_root = roots
    mappings, errors = compile_all(mapping_files(SHIPPED_DIR), TZ)
    assert not errors
    return _stage(native_root, []), _stage(vendor_root, mappings)


def _null(table: pa.Table, name: str, where: pa.Array) -> pa.Table:
    i = table.schema.get_field_index(name)
    col = table[name]
    return table.set_column(i, name, pc.if_else(where, pa.nulls(len(col), col.type), col))


def _trim(table: pa.Table, where: pa.Array) -> pa.Table:
    for name in table.column_names:
        if pa.types.is_string(table[name].type) and name not in ("source_file", "extra_fields"):
            col = table[name]
            trimmed = pc.if_else(pc.equal(pc.utf8_trim_whitespace(col), ""), None, col)
            trimmed = pc.utf8_trim_whitespace(trimmed)
            i = table.schema.get_field_index(name)
            table = table.set_column(i, name, pc.if_else(where, trimmed, col))
    return table


def reduce_to_vendors(native: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """The native staging tables as the vendors can carry them (see NOT_CARRIED, COARSENED)."""
    out = dict(native)
    t = native["interactions"]
    outbound_email = pc.and_(pc.equal(t["channel"], "email"), pc.equal(t["direction"], "outbound"))
    t = t.filter(pc.invert(outbound_email))
    for channel, carries in VENDOR_CHANNELS.items():
        mine = pc.equal(t["channel"], channel)
        for name in CONTRACTS["interactions"].column_names:
            if name not in carries and name != "ended_at":
                t = _null(t, name, mine)
    email = pc.equal(t["channel"], "email")
    ended = pc.if_else(email, t["updated_at"], t["ended_at"])
    t = t.set_column(t.schema.get_field_index("ended_at"), "ended_at", ended)
    out["interactions"] = _trim(t, pc.is_in(t["channel"], pa.array(list(VENDOR_CHANNELS))))
    for table, carries in CARRIES.items():
        x = native[table]
        everywhere = pa.array([True] * x.num_rows)
        for name in CONTRACTS[table].column_names:
            if name not in carries:
                x = _null(x, name, everywhere)
        out[table] = _trim(x, everywhere)
    c = out["cases"]
    solved = pc.equal(c["status"], "solved")
    out["cases"] = c.set_column(
        c.schema.get_field_index("status"), "status", pc.if_else(solved, "closed", c["status"])
    )
    return out


def _rows(table: pa.Table, columns: list[str]) -> list[dict]:
    return table.select(columns).sort_by([(c, "ascending") for c in columns]).to_pylist()


def test_vendor_feeds_stage_what_the_native_feeds_carry(staged) -> None:
    native, vendor = staged
    want = reduce_to_vendors(native)
    for name, contract in CONTRACTS.items():
        columns = ["partition_date", *contract.column_names]
        assert vendor[name].num_rows > 0
        assert _rows(vendor[name], columns) == _rows(want[name], columns), name
    # Lineage: every source the day came from is named; the channels no vendor took are native.
    lineage = pc.value_counts(vendor["interactions"]["source_mapping"]).to_pylist()
    got = {v["values"]: v["counts"] for v in lineage}
    assert set(got) == {"amazon_connect_ctr@1", "zendesk_ticket_contacts@1", None}
    assert set(vendor["survey_responses"]["source_mapping"].to_pylist()) == {
        "qualtrics_csat@1",
        "qualtrics_nps@1",
        "qualtrics_ces@1",
    }
    assert set(vendor["customers"]["source_mapping"].to_pylist()) == {"salesforce_contacts@1"}
    assert set(vendor["cases"]["source_mapping"].to_pylist()) == {"salesforce_cases@1"}
    assert set(vendor["subscription_events"]["source_mapping"].to_pylist()) == {None}


def _outcomes(tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    return compute_outcomes(OutcomeInputs(**tables), OUT_DAYS, AS_OF, OutcomeConfig(timezone=TZ))


@pytest.fixture(scope="module")
def outcomes(staged) -> tuple[dict[str, pa.Table], dict[str, pa.Table], dict[str, pa.Table]]:
    native, vendor = staged
    return _outcomes(native), _outcomes(reduce_to_vendors(native)), _outcomes(vendor)


def test_vendor_feeds_give_the_outcomes_of_the_native_feeds_they_carry(outcomes) -> None:
    _, reduced, vendor = outcomes
    for name, table in vendor.items():
        assert table.num_rows > 0, name
        assert _rows(table, table.column_names) == _rows(reduced[name], table.column_names), name


def _email_outputs(tables: dict[str, pa.Table]) -> dict[str, object]:
    t = tables["daily_outputs"]
    t = t.filter(pc.equal(t["channel"], "email"))
    sums = {c: pc.sum(t[c]).as_py() for c in ("legs_offered", "legs_handled", "frt_legs_responded")}
    sums["frt_mean_seconds"] = [v for v in t["frt_mean_seconds"].to_pylist() if v is not None]
    sums["aht_seconds"] = [v for v in t["aht_seconds"].to_pylist() if v is not None]
    return sums


def test_what_the_metrics_do_without_the_columns_the_vendors_cannot_carry(outcomes) -> None:
    native, _, vendor = outcomes
    full, zendesk = _email_outputs(native), _email_outputs(vendor)
    # Native email: answered and first replies known, so handled, AHT and FRT are measured.
    assert full["legs_handled"] > 0 and full["frt_legs_responded"] > 0 and full["frt_mean_seconds"]
    # Through Zendesk's ticket row (no first reply, no answer time): FRT is unknown, NULL, not
    # 0 seconds; AHT likewise. Offered contacts still count, outbound emails aside.
    assert zendesk["legs_offered"] > 0
    assert zendesk["frt_legs_responded"] == 0 and zendesk["frt_mean_seconds"] == []
    assert zendesk["aht_seconds"] == []
    # ... and "legs_handled" counts only answered contacts: unknown answer times show as 0 handled.
    assert zendesk["legs_handled"] == 0
    # Without segments and MRR in Salesforce's standard fields every journey falls in the
    # unknown segment, and its MRR at stake is unknown (NULL), not 0.
    journeys, native_journeys = vendor["journeys"], native["journeys"]
    assert set(journeys["segment"].to_pylist()) == {"unknown"}
    assert len(set(native_journeys["segment"].to_pylist())) > 1
    assert native_journeys["mrr_at_stake"].null_count < native_journeys.num_rows
    assert journeys["mrr_at_stake"].null_count == journeys.num_rows


def test_chat_through_zendesk_has_no_speed_of_answer(roots, staged, outcomes) -> None:
    """Zendesk keeps no queue or answer time: chat ASA is unknown (NULL), never 0 seconds."""
    native_root, _ = roots
    native_staged, _ = staged
    native_outcomes, _, _ = outcomes
    chat = native_root.parent / "chat_via_zendesk"
    shutil.copytree(native_root, chat)
    apply_formats(chat, DAYS, parse_formats(["interactions:chat=zendesk"]), TZ)
    mappings, _ = compile_all(mapping_files(SHIPPED_DIR), TZ)
    contract = CONTRACTS["interactions"]
    mine = for_table(mappings, "interactions")
    legs = pa.concat_tables([stage_day(chat, contract, d, TZ, mappings=mine).staged for d in DAYS])
    via_zendesk = _outcomes({**native_staged, "interactions": legs})

    def chat_speed(tables: dict[str, pa.Table]) -> tuple[int, list[float]]:
        t = tables["daily_outputs"]
        t = t.filter(pc.equal(t["channel"], "chat"))
        known = [v for v in t["asa_seconds"].to_pylist() if v is not None]
        return pc.sum(t["asa_legs_answered"]).as_py(), known

    answered, asa = chat_speed(native_outcomes)
    assert answered > 0 and asa  # natively: chats answered, with a speed of answer
    answered, asa = chat_speed(via_zendesk)
    assert answered == 0 and asa == []  # through Zendesk: unknown, not 0 s
