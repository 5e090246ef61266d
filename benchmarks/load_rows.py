"""The load benchmark's rows: a day of staged interactions at any scale, shaped like real ones
(hex ids, names with accents and apostrophes, nulls, multi-byte text), for
``benchmarks/load_bench.py``."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.warehouse.tables import STAGING_TABLES

TABLE = STAGING_TABLES["interactions"]
DAY = date(2024, 3, 4)

CHANNELS = ["voice", "chat", "email", "messaging", "social"]
QUEUES = ["billing", "tech_support", "sales", "retention", "general", "complaints", "moves"]
TEAMS = ["billing_care", "tech_experts", "digital_care", "retention_desk", "frontline"]
REASONS = [
    "bill_query",
    "payment_failed",
    "device_setup",
    "login_issue",
    "new_order",
    "cancel_request",
    "outage",
    "price_rise",
    "moving_home",
    "complaint",
    "upgrade",
    "refund",
]
DISPOSITIONS = ["resolved", "escalated", "transferred", "callback", "abandoned", "no_answer"]
FIRST = ["dylan", "siobhan", "amelia", "oliver", "aisha", "mohammed", "chloé", "zoë", "o'neil"]
LAST = ["wright", "brown", "smith", "patel", "jones", "nguyen", "kowalski", "müller", "o'brien"]
DOMAINS = ["gmail.com", "yahoo.co.uk", "outlook.com", "margie.co.uk", "btinternet.com"]


def _hex_ids(rng: np.random.Generator, prefix: str, n: int) -> pa.Array:
    """``prefix`` + 12 random hex digits per row (unique in practice)."""
    digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    nibbles = rng.integers(0, 16, size=(n, 12), dtype=np.uint8)
    chars = np.empty((n, len(prefix) + 12), np.uint8)
    chars[:, : len(prefix)] = np.frombuffer(prefix.encode(), np.uint8)
    chars[:, len(prefix) :] = digits[nibbles]
    return pa.array(chars.view(f"S{chars.shape[1]}").ravel()).cast(pa.string())


def _pick(rng: np.random.Generator, values: list[str], n: int) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(rng.integers(0, len(values), n)))


def _nulls(rng: np.random.Generator, arr: pa.Array, share: float) -> pa.Array:
    """``arr`` with about ``share`` of its values NULL."""
    null = pa.array(rng.random(len(arr)) < share)
    return pc.if_else(null, pa.scalar(None, arr.type), arr)


def _digits(rng: np.random.Generator, n: int, low: int, high: int) -> pa.Array:
    return pc.cast(pa.array(rng.integers(low, high, n)), pa.string())


def interactions(n: int, seed: int = 7) -> pa.Table:
    """n stg_interactions-shaped rows of one day (vectorised; seconds for 1M rows)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64(DAY.isoformat(), "us").astype(np.int64)
    queued = start + np.sort(rng.integers(0, 86_400, n)) * 1_000_000
    answered = queued + rng.integers(0, 120, n) * 1_000_000
    talk = rng.integers(5, 1_800, n)
    ended = answered + talk * 1_000_000
    updated = ended + rng.integers(0, 1_200, n) * 1_000_000 + rng.integers(0, 1_000_000, n)
    email = pc.binary_join_element_wise(
        _pick(rng, FIRST, n),
        ".",
        _pick(rng, LAST, n),
        _digits(rng, n, 0, 1_000_000),
        "@",
        _pick(rng, DOMAINS, n),
        "",
    )
    spaced = pa.array(rng.random(n) < 0.02)  # untrimmed input, as delivered
    email = pc.if_else(spaced, pc.binary_join_element_wise(" ", email, "  ", ""), email)
    phone = pc.binary_join_element_wise(
        "07", _digits(rng, n, 100, 1_000), " ", _digits(rng, n, 100_000, 1_000_000), ""
    )
    agent = pc.binary_join_element_wise(
        "AG-",
        _pick(rng, ["TEC", "BIL", "DIG", "RET", "FRO"], n),
        "-",
        _digits(rng, n, 1_000, 10_000),
        "",
    )
    channel = _pick(rng, CHANNELS, n)
    source = pc.binary_join_element_wise(
        f"interactions/{DAY.isoformat()}/interactions_", channel, ".jsonl", ""
    )
    extra = pa.array(np.where(rng.random(n) < 0.01, '{"campaign": "spring \\"24\\""}', None))
    ts = pa.timestamp("us", tz="UTC")
    columns = {
        "partition_date": pa.array(np.full(n, DAY), pa.date32()),
        "interaction_id": _hex_ids(rng, "ix-", n),
        "parent_interaction_id": _nulls(rng, _hex_ids(rng, "ix-", n), 0.95),
        "channel": channel,
        "direction": _pick(rng, ["inbound", "inbound", "inbound", "outbound"], n),
        "customer_id": _nulls(
            rng, pc.binary_join_element_wise("C", _digits(rng, n, 10**6, 10**7), ""), 0.39
        ),
        "customer_email": _nulls(rng, email, 0.69),
        "customer_phone": _nulls(rng, phone, 0.46),
        "queue": _pick(rng, QUEUES, n),
        "team": _nulls(rng, _pick(rng, TEAMS, n), 0.07),
        "agent_id": _nulls(rng, agent, 0.07),
        "contact_reason": _nulls(rng, _pick(rng, REASONS, n), 0.07),
        "case_id": _nulls(rng, _hex_ids(rng, "cs-", n), 0.62),
        "queued_at": pa.array(queued, ts),
        "answered_at": _nulls(rng, pa.array(answered, ts), 0.07),
        "first_response_at": _nulls(rng, pa.array(answered, ts), 0.69),
        "ended_at": pa.array(ended, ts),
        "talk_seconds": _nulls(rng, pa.array(talk), 0.07),
        "hold_seconds": _nulls(rng, pa.array(rng.integers(0, 300, n)), 0.54),
        "acw_seconds": _nulls(rng, pa.array(rng.integers(0, 120, n)), 0.07),
        "abandoned": pa.array(rng.random(n) < 0.07),
        "disposition": _nulls(rng, _pick(rng, DISPOSITIONS, n), 0.12),
        "updated_at": pa.array(updated, ts),
        "extra_fields": extra,
        "source_file": source,
        "source_line": pa.array(np.arange(1, n + 1)),
        "source_mapping": pa.nulls(n, pa.string()),  # read by the native contract reader
    }
    return pa.table(columns).cast(TABLE.arrow_schema)
