"""Vendor export formats: the generated native feeds rewritten as a vendor would deliver them.

The simulation writes the native contracts; a vendor format is a rewrite of those files
(same contacts, same deliveries, redeliveries and late files, one vendor file per native
file), so that the same seed can be staged through the vendor's source mapping and through
the native reader and the two compared. Columns a vendor's export cannot carry are left out,
and rows the vendor cannot express (a channel it does not have) are not written.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.ingest.conform import conform
from outcome_pipeline.ingest.landing import LandingFile, list_day_files
from outcome_pipeline.ingest.readers import read_raw

# Interactions feed as Amazon Connect contact records (the shipped amazon_connect_ctr mapping).
CONNECT_FEED = "amazon_connect"
CONNECT_CHANNELS = {"phone": "VOICE", "chat": "CHAT", "email": "EMAIL"}
# Contract columns the contact record carries (the others are contact attributes a center
# names itself, or not in the record at all).
CONNECT_CARRIES = (
    "interaction_id",
    "parent_interaction_id",
    "channel",
    "direction",
    "customer_phone",
    "queue",
    "team",
    "agent_id",
    "queued_at",
    "answered_at",
    "ended_at",
    "talk_seconds",
    "hold_seconds",
    "acw_seconds",
    "abandoned",
    "updated_at",
)
FORMATS = {"interactions": ("native", "amazon-connect")}

_ISO = "strftime({c}, '%Y-%m-%dT%H:%M:%S.%fZ')"
_CTR_SQL = f"""
SELECT interaction_id AS ContactId, parent_interaction_id AS PreviousContactId,
  CASE channel WHEN 'phone' THEN 'VOICE' WHEN 'chat' THEN 'CHAT' ELSE 'EMAIL' END AS Channel,
  CASE direction WHEN 'outbound' THEN 'OUTBOUND'
    ELSE CASE WHEN parent_interaction_id IS NULL THEN 'INBOUND' ELSE 'TRANSFER' END
  END AS InitiationMethod,
  {_ISO.format(c="queued_at")} AS InitiationTimestamp,
  {_ISO.format(c="ended_at")} AS DisconnectTimestamp,
  {_ISO.format(c="updated_at")} AS LastUpdateTimestamp,
  CASE WHEN customer_phone IS NULL THEN NULL
    ELSE {{'Address': customer_phone, 'Type': 'TELEPHONE_NUMBER'}} END AS CustomerEndpoint,
  {{'Name': queue, 'EnqueueTimestamp': {_ISO.format(c="queued_at")}}} AS Queue,
  CASE WHEN answered_at IS NULL THEN NULL ELSE {{'Username': agent_id,
    'ConnectedToAgentTimestamp': {_ISO.format(c="answered_at")},
    'AgentInteractionDuration': talk_seconds, 'CustomerHoldDuration': hold_seconds,
    'AfterContactWorkDuration': acw_seconds,
    'HierarchyGroups': {{'Level1': {{'GroupName': team}}}}}} END AS Agent
FROM rows ORDER BY __order
"""


@dataclass
class VendorRewrite:
    files_written: list[str] = field(default_factory=list)
    rows_written: int = 0
    rows_not_expressible: int = 0  # rows of a channel the vendor does not have


def write_connect_day(root: Path, day_files: list[LandingFile], timezone: str) -> VendorRewrite:
    """Rewrite one day's native interactions files as Connect CTR files (JSON, one per line)."""
    contract = CONTRACTS["interactions"]
    out = VendorRewrite()
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        for lf in day_files:
            typed = conform(read_raw(lf.path, contract, lf.fmt).table, contract, timezone).table
            keep = pa.compute.is_in(typed["channel"], pa.array(list(CONNECT_CHANNELS)))
            rows = typed.filter(keep)
            rows = rows.append_column("__order", pa.array(range(rows.num_rows), pa.int64()))
            out.rows_not_expressible += typed.num_rows - rows.num_rows
            target = root / CONNECT_FEED / lf.day.isoformat() / f"ctr-{Path(lf.relative).stem}"
            target.parent.mkdir(parents=True, exist_ok=True)
            con.register("rows", rows)
            con.execute(f"COPY ({_CTR_SQL}) TO '{target}' (FORMAT json)")
            con.unregister("rows")
            out.files_written.append(target.relative_to(root).as_posix())
            out.rows_written += rows.num_rows
    finally:
        con.close()
    return out


def rewrite_interactions_as_connect(root: Path, days: list, timezone: str) -> VendorRewrite:
    """Replace the native interactions feed under ``root`` by Connect contact records."""
    contract = CONTRACTS["interactions"]
    total = VendorRewrite()
    for day in days:
        files = list_day_files(root, contract, day)
        part = write_connect_day(root, files, timezone)
        total.files_written += part.files_written
        total.rows_written += part.rows_written
        total.rows_not_expressible += part.rows_not_expressible
        for lf in files:
            lf.path.unlink()
    native = root / contract.feed
    if native.is_dir() and not any(p.is_file() for p in native.rglob("*")):
        shutil.rmtree(native)
    return total


def parse_formats(values: list[str]) -> dict[str, str]:
    """``["interactions=amazon-connect"]`` → ``{"interactions": "amazon-connect"}``, checked."""
    formats: dict[str, str] = {}
    for value in values:
        feed, _, fmt = value.partition("=")
        if feed not in FORMATS or fmt not in FORMATS[feed]:
            known = "; ".join(f"{f}={'|'.join(v)}" for f, v in FORMATS.items())
            raise ValueError(f"unknown --format {value!r}; available: {known}")
        formats[feed] = fmt
    return formats


def apply_formats(root: Path, days: list, formats: dict[str, str], timezone: str) -> list[str]:
    """Rewrite the generated feeds into the requested vendor formats; say what was done."""
    notes = []
    if formats.get("interactions") == "amazon-connect":
        done = rewrite_interactions_as_connect(root, days, timezone)
        notes.append(
            f"interactions written as Amazon Connect contact records: {done.rows_written} rows "
            f"in {len(done.files_written)} files under {root / CONNECT_FEED}; "
            f"{done.rows_not_expressible} rows of channels Connect does not have left out"
        )
    return notes
