"""Identity: normalisation, placeholders, CRM matching, pseudonyms, no raw PII in outputs."""

from __future__ import annotations

import hashlib
import hmac
import re

import pyarrow as pa

from outcome_pipeline.outcomes import OutcomeConfig, OutcomeInputs, compute_outcomes
from outcome_pipeline.outcomes.config import pseudonym_key_from_env
from outcome_pipeline.outcomes.identity import pseudonym, resolve
from outcome_pipeline_tests.outcomes import fixture as fx

CFG = OutcomeConfig(pseudonym_key=b"test-key")


ANONYMOUS = (None, "anonymous")


def key(kind: str, value: str) -> tuple[str, str]:
    """What resolve_identity gives an identifier no CRM customer holds: its pseudonym."""
    return pseudonym(kind, value, b"test-key"), f"hashed_{kind}"


def test_email_is_trimmed_and_lower_cased_and_placeholders_are_dropped() -> None:
    emails = [
        "  Olivia.Smith1@Gmail.Com ",
        "olivia.smith1@gmail.com",
        "unknown",
        "noreply@invalid",
        "anonymous@example.com",
        "000@example.com",
        "",
        None,
        "no-at-sign.example.com",
    ]
    got = resolve(CFG, [{"email": e} for e in emails])
    assert got == [key("email", "olivia.smith1@gmail.com")] * 2 + [ANONYMOUS] * 7


def test_uk_phone_spellings_normalise_to_one_e164_number() -> None:
    spellings = [
        "07700 900123",
        "+44 7700 900123",
        "+447700900123",
        "0044 7700 900123",
        "447700900123",
        "7700900123",
        "+44 (0)7700 900123",
        "(07700) 900-123",
    ]
    got = resolve(CFG, [{"phone": p} for p in spellings])
    assert got == [key("phone", "+447700900123")] * len(spellings)


def test_phone_placeholders_and_foreign_numbers() -> None:
    phones = [
        "withheld",
        "anonymous",
        "unknown",
        "0000000000",
        "+44 7777 777777",
        "123",
        "",
        None,
        "+1 202 555 0123",
    ]
    got = resolve(CFG, [{"phone": p} for p in phones])
    assert got == [ANONYMOUS] * 8 + [key("phone", "+12025550123")]


def test_customer_id_placeholders() -> None:
    ids = [" C0000001 ", "0", "000000", "-1", "N/A", "unknown", "someone@example.com", None]
    got = resolve(CFG, [{"cid": c} for c in ids])
    # An id the CRM does not know is kept (trimmed) but unverified; placeholders are no id.
    assert got == [("C0000001", "unverified_id")] + [ANONYMOUS] * 7
    assert resolve(CFG, [{"cid": " C0000001 "}], crm_ids=["C0000001"]) == [("C0000001", "crm_id")]


def test_rank_of_the_rules() -> None:
    rows = [
        # A CRM id the CRM knows wins over everything else on the row.
        {"cid": "C1", "email": "bob@example.com", "phone": "07700 900002"},
        # Then the CRM owner of the email, then of the phone (normalised before the lookup).
        {"cid": "C9", "email": " BOB@example.com", "phone": "07700 900002"},
        {"cid": "C9", "email": "carol@example.com", "phone": "0044 7700 900002"},
        # Then the pseudonym of the email, then of the phone, then the unknown id.
        {"cid": "C9", "email": "carol@example.com", "phone": "07700 900003"},
        {"cid": "C9", "email": "unknown", "phone": "07700 900003"},
        {"cid": "C9", "email": "unknown", "phone": "withheld"},
    ]
    got = resolve(
        CFG,
        rows,
        crm_ids=["C1"],
        crm_by_email={"bob@example.com": "C2"},
        crm_by_phone={"+447700900002": "C3"},
    )
    assert got == [
        ("C1", "crm_id"),
        ("C2", "crm_email"),
        ("C3", "crm_phone"),
        key("email", "carol@example.com"),
        key("phone", "+447700900003"),
        ("C9", "unverified_id"),
    ]


def test_sql_hmac_equals_python_hmac() -> None:
    got = resolve(CFG, [{"email": "alice@example.com"}, {"phone": "07700 900123"}])
    expected = hmac.new(b"test-key", b"email:alice@example.com", hashlib.sha256).hexdigest()
    assert got[0] == ("pk_" + expected[:32], "hashed_email")
    assert got[1] == key("phone", "+447700900123")
    long_key = OutcomeConfig(pseudonym_key=b"k" * 100)  # keys over 64 bytes are hashed first
    assert resolve(long_key, [{"email": "a@b.co"}]) == [
        (pseudonym("email", "a@b.co", b"k" * 100), "hashed_email")
    ]


def test_key_from_environment_with_dev_default() -> None:
    assert pseudonym_key_from_env({"OUTCOME_PSEUDONYM_KEY": "s3cret"}) == b"s3cret"
    assert pseudonym_key_from_env({}) == OutcomeConfig().pseudonym_key


def _contacts(rows: list[dict], customers: list[dict]) -> list[dict]:
    """journey_contacts of one-leg contacts on D1 (from 09:00, an hour apart) for these ids."""
    legs = [
        fx.leg(
            f"ix-{i}",
            "phone",
            "general",
            "express",
            "X1",
            f"06-10 {9 + i:02d}:00",
            wait=5,
            talk=60,
            disposition="resolved",
            **ids,
        )
        for i, ids in enumerate(rows)
    ]
    base = fx.lt("2024-01-01 00:00")
    crm = [dict(c, created_at=base, updated_at=base) for c in customers]
    inputs = OutcomeInputs(
        interactions=fx.staged("interactions", legs, "queued_at"),
        customers=fx.staged("customers", crm, "updated_at"),
        cases=OutcomeInputs.empty().cases,
        subscription_events=OutcomeInputs.empty().subscription_events,
        survey_responses=OutcomeInputs.empty().survey_responses,
    )
    out = compute_outcomes(inputs, [fx.D1], fx.lt("06-30 00:00"), CFG)
    return sorted(out["journey_contacts"].to_pylist(), key=lambda r: r["contact_id"])


def test_crm_match_by_email_or_phone_and_placeholders_never_join() -> None:
    customers = [
        {"customer_id": "C1", "email": "alice@example.com", "phone": "+447700900001"},
        {"customer_id": "C2", "email": None, "phone": "07700 900002"},
        # Two CRM customers share a phone: it identifies neither.
        {"customer_id": "C3", "email": None, "phone": "+447700900777"},
        {"customer_id": "C4", "email": None, "phone": "07700 900777"},
    ]
    rows = [
        {"customer_email": " ALICE@example.com"},  # 0: C1 by email
        {"customer_phone": "0044 7700 900002"},  # 1: C2 by phone
        {"customer_id": "C9999999", "customer_phone": "+44 7700 900001"},  # 2: unknown id -> C1
        {"customer_phone": "07700 900777"},  # 3: shared phone -> pseudonym, not C3/C4
        {"customer_phone": "withheld"},  # 4, 5: placeholders: two anonymous contacts
        {"customer_phone": "withheld", "customer_email": "unknown"},
        {"customer_id": "C9999999"},  # 6: an id the CRM does not know, nothing else
        {"customer_id": "C1"},  # 7: C1 by id
    ]
    got = [(r["customer_key"], r["match_rule"]) for r in _contacts(rows, customers)]
    shared = pseudonym("phone", "+447700900777", b"test-key")
    assert got == [
        ("C1", "crm_email"),
        ("C2", "crm_phone"),
        ("C1", "crm_phone"),
        (shared, "hashed_phone"),
        (None, "anonymous"),
        (None, "anonymous"),
        ("C9999999", "unverified_id"),
        ("C1", "crm_id"),
    ]


def test_no_raw_email_or_phone_reaches_any_output_table() -> None:
    out = compute_outcomes(fx.inputs(), fx.DAYS, fx.lt("06-25 00:00"))
    email = re.compile(r"@")
    phone = re.compile(r"\+?\d[\d ()-]{7,}\d")
    raw = {v.strip().lower() for v in fx.RAW_IDENTIFIERS}
    scanned = 0
    for name, table in out.items():
        for field in table.schema:
            if field.type != pa.string():
                continue
            for value in set(table[field.name].to_pylist()) - {None}:
                scanned += 1
                assert value.strip().lower() not in raw, (name, field.name, value)
                assert not email.search(value), (name, field.name, value)
                assert not phone.fullmatch(value), (name, field.name, value)
    assert scanned > 50
