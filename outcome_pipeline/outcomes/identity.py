"""Identity resolution: who the customer of a contact (or survey response) is.

The rules run in DuckDB: ``sql/macros.sql`` defines them (``resolve_identity`` applies them
to contacts, context contacts and survey responses alike) and ``sql/int_crm_*.sql`` build the
CRM lookups; this module sets their parameters and offers them to tests and to anyone who needs
to check a value by hand (:func:`resolve`).

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
from collections.abc import Iterable, Mapping, Sequence

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


def resolve(
    cfg: OutcomeConfig,
    rows: Sequence[Mapping[str, str | None]],
    crm_ids: Iterable[str] = (),
    crm_by_email: Mapping[str, str] | None = None,
    crm_by_phone: Mapping[str, str] | None = None,
) -> list[tuple[str | None, str]]:
    """(customer_key, match_rule) of each row (keys ``cid``, ``email``, ``phone``, raw values,
    missing = None) by ``resolve_identity`` itself, the macro every run applies (tests,
    checking a value by hand).

    The CRM lookups the run builds from the CRM feed (``sql/int_crm_*.sql``) are given here:
    ``crm_ids`` (ids the CRM knows) and the customer of each normalised email / E.164 phone
    held by exactly one CRM customer.
    """
    con = duckdb.connect()
    try:
        register_identity(con, cfg)
        lookups = {
            "int_crm_ids": pa.table({"customer_id": pa.array(list(crm_ids), pa.string())}),
            "int_crm_by_email": _lookup("email_n", crm_by_email or {}),
            "int_crm_by_phone": _lookup("phone_n", crm_by_phone or {}),
        }
        for name, table in lookups.items():
            con.register(f"{name}_arrow", table)
            con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
        values = {
            column: pa.array([r.get(column) for r in rows], pa.string())
            for column in ("cid", "email", "phone")
        }
        position = pa.array(range(len(rows)), pa.int64())
        con.register("identity_rows", pa.table({**values, "position": position}))
        got = con.sql(
            "SELECT customer_key, match_rule FROM resolve_identity('identity_rows') "
            "ORDER BY position"
        ).fetchall()
        return [(key, rule) for key, rule in got]
    finally:
        con.close()


def _lookup(value_column: str, owners: Mapping[str, str]) -> pa.Table:
    return pa.table(
        {
            value_column: pa.array(list(owners), pa.string()),
            "customer_id": pa.array(list(owners.values()), pa.string()),
        }
    )
