"""Identity resolution: who the customer of a contact (or survey response) is.

The rules run in DuckDB: ``sql/macros.sql`` defines them (``resolve_identity`` applies them
to contacts, context contacts and survey responses alike) and ``sql/int_crm_*.sql`` build the
CRM lookups; this module sets their parameters and offers them to tests and to anyone who needs
to check a value by hand.

- **customer_key** = the CRM ``customer_id`` when the CRM knows it; else the CRM customer
  whose normalised email, then phone, it is (only if exactly one CRM customer has it); else
  ``pk_`` + the first 32 hex digits of HMAC-SHA256(key, ``"email:" + email``) (then
  ``"phone:" + phone``); else an id the CRM does not know, as delivered; else NULL
  (anonymous). The key comes from ``OUTCOME_PSEUDONYM_KEY``
  (:func:`~outcome_pipeline.outcomes.config.pseudonym_key_from_env`).
- **email**: trimmed, lower-case, ``local@domain.tld``; no dot or ``+tag`` folding.
- **phone**: E.164. A leading ``+`` keeps the digits; ``00`` is the international prefix;
  a leading ``0`` is the national trunk prefix and becomes the default country code (44);
  a bare number of 11+ digits already has its country code, a shorter one gets 44. ``(0)``
  is dropped. So ``07700 900123``, ``+44 7700 900123``, ``0044 7700 900123`` and
  ``447700900123`` are all ``+447700900123``. 8-15 digits, not one digit repeated.
- **placeholders** (blank, ``anonymous``, ``unknown``, ``n/a``, ``withheld``, ``0000…``,
  ``noreply@…``, ...) are no identifier: they never join two contacts.

Raw emails and phones exist only inside the in-memory DuckDB session; output tables carry the
customer key and the ``match_rule`` only.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pyarrow as pa

from outcome_pipeline.outcomes.config import OutcomeConfig
from outcome_pipeline.outcomes.relations import SQL_DIR

_BLOCK = 64  # SHA-256 block size in bytes


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """(K xor ipad, K xor opad) of RFC 2104 for SHA-256."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)


def pseudonym(kind: str, normalised_value: str, key: bytes) -> str:
    """The customer key of a normalised identifier, computed in Python (reference)."""
    digest = hmac.new(key, f"{kind}:{normalised_value}".encode(), hashlib.sha256).hexdigest()
    return "pk_" + digest[:32]


def register_identity(con: duckdb.DuckDBPyConnection, cfg: OutcomeConfig) -> None:
    """Define the identifier macros in ``con`` with this config's key and country code."""
    ipad, opad = hmac_pads(cfg.pseudonym_key)
    con.execute("SET VARIABLE hmac_ipad = ?", [ipad])
    con.execute("SET VARIABLE hmac_opad = ?", [opad])
    con.execute("SET VARIABLE cc = ?", [cfg.default_country_code])
    con.execute((SQL_DIR / "macros.sql").read_text())


def normalise(
    cfg: OutcomeConfig,
    customer_ids: list[str | None] | None = None,
    emails: list[str | None] | None = None,
    phones: list[str | None] | None = None,
) -> dict[str, list[str | None]]:
    """Apply the SQL normalisation rules to Python values (tests, debugging by hand).

    Returns ``customer_id``, ``email``, ``phone`` (E.164 with ``+``) and the pseudonyms
    ``email_key`` / ``phone_key``; None where a value is not a usable identifier.
    """
    n = max(len(x or []) for x in (customer_ids, emails, phones))
    table = pa.table(
        {
            "cid": pa.array(customer_ids or [None] * n, pa.string()),
            "email": pa.array(emails or [None] * n, pa.string()),
            "phone": pa.array(phones or [None] * n, pa.string()),
            "i": pa.array(range(n), pa.int64()),
        }
    )
    con = duckdb.connect()
    try:
        register_identity(con, cfg)
        con.register("vals", table)
        rows = con.sql(
            """
            WITH normalised AS (
                SELECT i,
                    CASE WHEN cid IS NOT NULL AND customer_id_ok(trim(cid)) THEN trim(cid) END
                        AS customer_id,
                    CASE WHEN email IS NOT NULL AND email_ok(lower(trim(email)))
                        THEN lower(trim(email)) END AS email,
                    e164_digits(phone, phone_digits(phone), getvariable('cc')) AS phone_e164
                FROM vals
            )
            SELECT customer_id, email,
                CASE WHEN valid_e164(phone_e164, getvariable('cc')) THEN '+' || phone_e164 END
                    AS phone
            FROM normalised ORDER BY i
            """
        ).to_arrow_table()
        out = {name: rows[name].to_pylist() for name in ("customer_id", "email", "phone")}
        out["email_key"] = [
            con.execute("SELECT pseudonym('email', ?)", [e]).fetchone()[0] if e else None
            for e in out["email"]
        ]
        out["phone_key"] = [
            con.execute("SELECT pseudonym('phone', ?)", [p]).fetchone()[0] if p else None
            for p in out["phone"]
        ]
        return out
    finally:
        con.close()
