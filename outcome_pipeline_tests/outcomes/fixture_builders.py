"""The days of the hand-made fixture (``fixture.py``) and the helpers its rows are written with:
local times, staging-shaped tables, interaction legs."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.contracts.staging import staging_schema

TZ = ZoneInfo("Europe/London")
D1, D2, D3 = date(2024, 6, 10), date(2024, 6, 11), date(2024, 6, 12)
DAYS = [D1, D2, D3]
D4 = date(2024, 6, 13)
D4_DAYS = [D1, D2, D3, D4]
IVY_CONTACTS = ("06-13 09:00", "06-19 09:00", "06-25 09:00", "07-01 09:00", "07-07 09:00")
IVY_CONTACTS += ("07-13 08:00", "07-18 10:00")


def lt(text: str) -> datetime:
    """Local time ``MM-DD HH:MM[:SS]`` in June 2024 (or a full ISO date)."""
    if len(text) <= 14:
        text = "2024-" + text
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def staged(name: str, rows: list[dict], time_column: str) -> pa.Table:
    """Staging-shaped table; partition_date = local day of ``time_column`` unless given."""
    schema = staging_schema(CONTRACTS[name])
    full = []
    for i, row in enumerate(rows):
        r = dict.fromkeys(schema.names)
        r.update(row)
        if r["partition_date"] is None:
            r["partition_date"] = r[time_column].astimezone(TZ).date()
        r["updated_at"] = r["updated_at"] or r[time_column] + timedelta(minutes=30)
        r["source_file"] = f"fixture/{name}.csv"
        r["source_line"] = i + 2
        full.append(r)
    return pa.Table.from_pylist(full, schema=schema)


def leg(
    iid: str,
    channel: str,
    queue: str,
    team: str | None,
    agent: str | None,
    queued: str,
    *,
    wait: int | None = None,
    talk: int = 0,
    hold: int | None = None,
    acw: int = 0,
    disposition: str | None = None,
    abandoned_after: int | None = None,
    **extra: object,
) -> dict:
    """One interaction leg: answered ``wait`` s after queuing and ended after talk + hold,
    or abandoned ``abandoned_after`` s after queuing."""
    q = lt(queued)
    asynchronous = channel in ("email", "social", "messaging")
    row: dict = {
        "interaction_id": iid,
        "channel": channel,
        "direction": "inbound",
        "queue": queue,
        "team": team,
        "agent_id": agent,
        "queued_at": q,
        "disposition": disposition,
        **extra,
    }
    if abandoned_after is not None:
        row.update(abandoned=True, ended_at=q + timedelta(seconds=abandoned_after))
        return row
    answered = q + timedelta(seconds=wait or 0)
    row.update(
        abandoned=False,
        answered_at=answered,
        first_response_at=answered if asynchronous else None,
        ended_at=answered + timedelta(seconds=talk + (hold or 0)),
        talk_seconds=talk,
        hold_seconds=hold,
        acw_seconds=acw,
    )
    return row
