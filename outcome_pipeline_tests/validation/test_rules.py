"""Each rule fires on a row built to break it and not on a clean row (precheck engine: fast).

GX's verdicts on the same rows are compared in test_gx_agreement.py.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.ingest.stage_finish import count_late_rows
from outcome_pipeline.validation import REASON_CODES, day_bounds, rules_for, validate_day
from outcome_pipeline.validation.messages import safe_value
from outcome_pipeline_tests.validation.fixtures import (
    BREAKERS,
    DAY,
    TZ,
    Breaker,
    broken,
    clean,
    every_defect,
    rows_table,
    ts,
)


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_a_clean_day_passes_every_rule(table: str) -> None:
    rows = rows_table(CONTRACTS[table], [clean(table, key=f"k{i}") for i in range(3)])
    v = validate_day(rows, CONTRACTS[table], DAY, TZ, engine="precheck")
    assert v.success and v.row_failures == {} and v.row_warnings == {}
    assert not v.failed_mask.any()
    assert [e.name for e in v.expectations if not e.success] == []
    assert len(v.expectations) == len(rules_for(CONTRACTS[table], DAY, TZ))


@pytest.mark.parametrize("b", BREAKERS, ids=lambda b: b.id)
def test_each_rule_fires_on_its_breaking_row_only(b: Breaker) -> None:
    contract = CONTRACTS[b.table]
    rows = rows_table(contract, [clean(b.table, key="before"), broken(b), clean(b.table, "x")])
    v = validate_day(rows, contract, DAY, TZ, engine="precheck")
    assert list(v.row_failures) == [1]
    assert v.failed_mask.tolist() == [False, True, False]
    (failure,) = v.row_failures[1]
    assert (failure.code, failure.expectation) == (b.code, b.rule)
    assert b.message in failure.message
    outcome = next(e for e in v.expectations if e.name == b.rule)
    assert not outcome.success and outcome.unexpected_count == 1 and outcome.level == "row"
    assert v.success  # row failures are quarantined; they do not fail the day


def test_every_reason_code_is_produced_and_not_constant() -> None:
    seen: dict[str, set[bool]] = {}
    for table in CONTRACTS:
        rows, expected = every_defect(table)
        v = validate_day(rows, CONTRACTS[table], DAY, TZ, engine="precheck")
        assert {i: {f.code for f in fs} for i, fs in v.row_failures.items()} == expected
        for code in REASON_CODES:
            flags = {code in {f.code for f in v.row_failures.get(i, [])} for i in range(len(rows))}
            seen.setdefault(code, set()).update(flags)
    for code in ("unknown_value", "out_of_range", "impossible_timestamp"):
        assert seen[code] == {True, False}, code


def test_missing_key_and_required_values_are_row_failures() -> None:
    contract = CONTRACTS["interactions"]
    rows = rows_table(
        contract,
        [
            clean("interactions", "a"),
            {**clean("interactions"), "interaction_id": None},
            clean("interactions", "c", channel=None),
        ],
    )
    v = validate_day(rows, contract, DAY, TZ, engine="precheck")
    assert [(f.code, f.message) for f in v.row_failures[1]] == [
        ("missing_key", "interaction_id is empty")
    ]
    assert [(f.code, f.message) for f in v.row_failures[2]] == [
        ("missing_required", "channel is empty")
    ]
    assert 0 not in v.row_failures


def test_a_row_breaking_several_rules_gets_every_failure() -> None:
    contract = CONTRACTS["interactions"]
    bad = clean("interactions", "bad", channel="fax", talk_seconds=-1, ended_at=ts(2024, 3, 31, 9))
    v = validate_day(rows_table(contract, [bad]), contract, DAY, TZ, engine="precheck")
    assert [(f.code, f.expectation) for f in v.row_failures[0]] == [
        ("unknown_value", "channel_allowed"),
        ("out_of_range", "talk_seconds_range"),
        ("impossible_timestamp", "ended_at_not_before_answered_at"),
        ("impossible_timestamp", "ended_at_not_before_queued_at"),
    ]
    reasons = v.quarantine_reasons().to_pylist()
    assert reasons[0]["reason_code"] == "impossible_timestamp,out_of_range,unknown_value"
    assert reasons[0]["message"].startswith("unknown_value: channel 'fax' is not one of")


def test_missing_values_of_optional_columns_break_nothing() -> None:
    contract = CONTRACTS["interactions"]
    optional = [c.name for c in contract.columns if not c.required and c.name != "interaction_id"]
    row = clean("interactions", "sparse", **dict.fromkeys(optional))
    v = validate_day(rows_table(contract, [row]), contract, DAY, TZ, engine="precheck")
    assert v.row_failures == {} and v.success


# --- business-day boundaries (Europe/London, DST starts 2024-03-31 01:00 GMT) ---------------


def test_day_bounds_follow_local_midnights_across_dst() -> None:
    spring = day_bounds(date(2024, 3, 31), TZ)
    assert spring.start == datetime(2024, 3, 31, 0, tzinfo=UTC)
    assert spring.end == datetime(2024, 3, 31, 23, tzinfo=UTC)  # a 23-hour day
    assert spring.implausible_from == datetime(2024, 4, 1, 23, tzinfo=UTC)
    autumn = day_bounds(date(2024, 10, 27), TZ)
    assert autumn.end - autumn.start == (datetime(2024, 10, 28) - datetime(2024, 10, 27)) * 25 / 24


@pytest.mark.parametrize(
    ("queued_at", "late", "impossible"),
    [
        (ts(2024, 3, 30, 23, 59), True, False),  # 23:59 GMT on the 30th: previous day, late
        (ts(2024, 3, 31, 0, 0), False, False),  # local midnight: first instant of the day
        (ts(2024, 3, 31, 22, 59), False, False),  # 23:59 BST: last minute of the day
        (ts(2024, 3, 31, 23, 0), True, False),  # 00:00 BST on April 1st: next day, late
        (ts(2024, 4, 1, 22, 59), True, False),  # 23:59 BST April 1st: still plausible
        (ts(2024, 4, 1, 23, 0), True, True),  # 00:00 BST April 2nd: more than a day ahead
        (ts(2000, 1, 1, 0, 0), True, False),
        (ts(1999, 12, 31, 23, 59, 59), True, True),
    ],
)
def test_late_and_impossible_event_times_in_the_business_timezone(
    queued_at: datetime, late: bool, impossible: bool
) -> None:
    contract = CONTRACTS["interactions"]
    row = clean(
        "interactions",
        "i",
        queued_at=queued_at,
        answered_at=None,
        ended_at=queued_at,
        updated_at=queued_at,
    )
    rows = rows_table(contract, [row] + [clean("interactions", f"ok{i}") for i in range(19)])
    v = validate_day(rows, contract, DAY, TZ, engine="precheck")
    failures = v.row_failures.get(0, [])
    assert {f.code for f in failures} == ({"impossible_timestamp"} if impossible else set())
    assert ("queued_at_plausible" in {f.expectation for f in failures}) == impossible
    late_outcome = next(e for e in v.expectations if e.name == "queued_at_mostly_in_day")
    assert late_outcome.unexpected_count == int(late)
    assert late_outcome.success  # 1 in 20 = 5%: within the warning threshold
    assert count_late_rows(rows, contract, DAY, TZ) == int(late)  # same day notion as staging


def test_a_day_with_many_late_rows_warns_but_passes() -> None:
    contract = CONTRACTS["survey_responses"]
    late = ts(2024, 3, 30, 12)
    records = [
        clean("survey_responses", f"r{i}", sent_at=late, responded_at=late) for i in range(3)
    ]
    records += [clean("survey_responses", f"ok{i}") for i in range(7)]
    v = validate_day(rows_table(contract, records), contract, DAY, TZ, engine="precheck")
    warning = next(e for e in v.expectations if e.name == "responded_at_mostly_in_day")
    assert (warning.severity, warning.level, warning.success) == ("warning", "dataset", False)
    assert warning.unexpected_count == 3
    assert v.success and v.row_failures == {}  # late is not a loss


# --- dataset-level rules ------------------------------------------------------------------


def test_duplicate_keys_fail_the_day_without_quarantining_rows() -> None:
    contract = CONTRACTS["cases"]
    rows = rows_table(contract, [clean("cases", "k1"), clean("cases", "k1"), clean("cases", "k2")])
    v = validate_day(rows, contract, DAY, TZ, engine="precheck")
    assert not v.success and v.row_failures == {}
    unique = next(e for e in v.expectations if e.name == "case_id_unique")
    assert (unique.success, unique.unexpected_count, unique.severity) == (False, 2, "error")


def test_missing_or_extra_columns_and_wrong_types_fail_the_day() -> None:
    contract = CONTRACTS["cases"]
    rows = rows_table(contract, [clean("cases", "k1")])
    v = validate_day(rows.drop_columns(["reason"]), contract, DAY, TZ, engine="precheck")
    columns = next(e for e in v.expectations if e.name == "columns_match_contract")
    assert not v.success and columns.observed == "missing: reason"
    extra = rows.append_column("surprise", pa.array(["x"]))
    assert not validate_day(extra, contract, DAY, TZ, engine="precheck").success
    retyped = rows.set_column(
        rows.schema.get_field_index("opened_at"), "opened_at", rows["opened_at"].cast(pa.string())
    )
    v = validate_day(retyped, contract, DAY, TZ, engine="precheck")
    failed = {e.name: e for e in v.expectations if not e.success}
    assert failed["opened_at_type"].observed == "string" and not v.success
    assert failed["closed_at_not_before_opened_at"].observed.startswith("not evaluated")
    assert "opened_at_not_null" not in failed


def test_an_empty_day_passes() -> None:
    for name, contract in CONTRACTS.items():
        v = validate_day(rows_table(contract, []), contract, DAY, TZ, engine="precheck")
        assert v.success and v.num_rows == 0 and v.failed_mask.shape == (0,), name


def test_staging_lineage_columns_are_accepted() -> None:
    contract = CONTRACTS["interactions"]
    rows = rows_table(
        contract, [clean("interactions", "a"), clean("interactions", "b", channel="fax")]
    )
    staged = rows.rename_columns(
        [
            {"_source_file": "source_file", "_source_line": "source_line"}.get(c, c)
            for c in rows.column_names
        ]
    ).append_column("partition_date", pa.array([DAY, DAY], pa.date32()))
    v = validate_day(staged, contract, DAY, TZ, engine="precheck")
    assert v.success and list(v.row_failures) == [1]


def test_known_ids_flag_unknown_references_without_echoing_them() -> None:
    contract = CONTRACTS["survey_responses"]
    rows = rows_table(
        contract,
        [
            clean("survey_responses", "r1"),
            clean("survey_responses", "r2", interaction_id="i-404"),
            clean("survey_responses", "r3", interaction_id=None),
        ],
    )
    known = {"interaction_id": pa.array(["i-clean", "i-other"])}
    v = validate_day(rows, contract, DAY, TZ, engine="precheck", known_ids=known)
    assert list(v.row_failures) == [1]
    (failure,) = v.row_failures[1]
    assert failure.code == "unknown_reference" and "i-404" not in failure.message


def test_unknown_engine_is_refused() -> None:
    contract = CONTRACTS["cases"]
    with pytest.raises(ValueError, match="engine"):
        validate_day(rows_table(contract, []), contract, DAY, TZ, engine="fast")


# --- PII ------------------------------------------------------------------------------------


def test_messages_never_carry_pii_values() -> None:
    contract = CONTRACTS["survey_responses"]
    email, phone = "liam.o@example.com", "+44 7700 900123"
    records = [
        clean("survey_responses", "r1", customer_email="not-an-email", customer_phone="call me"),
        clean("survey_responses", "r2", survey_type=email, score=99),  # shifted columns
        clean("survey_responses", "r3", survey_type=phone),
        clean("survey_responses", "r4", customer_email=email, customer_phone=phone),
    ]
    v = validate_day(rows_table(contract, records), contract, DAY, TZ, engine="precheck")
    texts = [f.message for fs in (*v.row_failures.values(), *v.row_warnings.values()) for f in fs]
    texts += [e.message for e in v.expectations]
    assert any("customer_email is not a valid email" in t for t in texts)
    assert any("survey_type <withheld> is not one of" in t for t in texts)
    for text in texts:
        for value in (email, phone, "not-an-email", "call me", "+447700900099", "ava.patel"):
            assert value not in text, text
    assert 3 not in v.row_failures and 3 not in v.row_warnings  # valid email/phone: no warning
    assert [f.code for f in v.row_warnings[0]] == ["invalid_format", "invalid_format"]
    assert not v.failed_mask[0]  # a malformed email warns, it does not quarantine


def test_safe_value_withholds_contact_details() -> None:
    assert safe_value("fax") == "'fax'"
    assert safe_value("x@y.z") == "<withheld>"
    assert safe_value("07700 900123") == "<withheld>"
    assert safe_value(-5) == "-5" and safe_value(2.5) == "2.5"


# --- packaging ------------------------------------------------------------------------------


def test_importing_the_package_imports_neither_gx_nor_dagster() -> None:
    code = (
        "import sys, outcome_pipeline.validation as v; "
        "print(any(m.split('.')[0] in ('great_expectations', 'dagster') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_precheck_masks_are_numpy_bools() -> None:
    rows, _ = every_defect("interactions")
    v = validate_day(rows, CONTRACTS["interactions"], DAY, TZ, engine="precheck")
    assert v.failed_mask.dtype == np.bool_ and v.failed_mask.shape == (rows.num_rows,)
    assert v.gx_seconds == 0.0 and v.precheck_seconds > 0
