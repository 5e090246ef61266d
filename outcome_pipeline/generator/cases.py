"""CRM cases: opened at the first handled contact, re-touched by every later one.

A case's status follows what agents claimed (resolved → solved, follow-up → pending, else
open), so a false resolution shows as a solved case that later reopens. Solved cases close
three days later; cases left pending or open are closed by a stale-case job after two weeks.
The CRM delivers a change set per day: one row per case that changed, in its latest state.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.contracts.feeds import CASE_STATUSES, CASES
from outcome_pipeline.generator import catalog as cat
from outcome_pipeline.generator.journeys import DayBatch, group_ends
from outcome_pipeline.generator.population import Population, hex_ids
from outcome_pipeline.generator.timeutil import DAY, HOUR, NA, BusinessClock, to_timestamp

OPEN, PENDING, SOLVED, CLOSED = (CASE_STATUSES.index(s) for s in CASE_STATUSES)
CASE_ID_KIND = 2
NO_ATTEMPT = 99


def case_keys(batch: DayBatch) -> tuple[np.ndarray, np.ndarray]:
    """(issue has a case, first attempt covered by it) per issue.

    A case exists when the issue asked for one and some contact was actually handled; it is
    opened on that first handled contact.
    """
    c = batch.contacts
    first = np.full(len(batch.issues["cust"]), NO_ATTEMPT, dtype=np.int64)
    handled = c["answered"]
    np.minimum.at(first, c["issue"][handled], c["attempt"][handled].astype(np.int64))
    return batch.issues["has_case"] & (first < NO_ATTEMPT), first


def case_ids(day: int, issue: np.ndarray, on_case: np.ndarray | None = None) -> pa.Array:
    """Case id of the issues ``issue`` of the batch of ``day`` (null where not ``on_case``)."""
    ids = hex_ids("cs-", day * 16 + CASE_ID_KIND, issue)
    if on_case is None:
        return ids
    return pc.if_else(pa.array(on_case), ids, pa.scalar(None, pa.string()))


def case_rows(
    batch: DayBatch,
    pop: Population,
    clock: BusinessClock,
    has: np.ndarray,
    first: np.ndarray,
    start_day: int,
    end_day: int,
) -> pa.Table:
    """The day change sets of this batch's cases that fall in [start_day, end_day)."""
    c, issues = batch.contacts, batch.issues
    issue = c["issue"]
    on_case = has[issue] & c["answered"] & (c["attempt"] >= first[issue])
    ci = issue[on_case]
    status = np.select(
        [c["disposition"][on_case] == cat.RESOLVED, c["disposition"][on_case] == cat.FOLLOW_UP],
        [SOLVED, PENDING],
        OPEN,
    )
    touched = c["updated"][on_case]
    opening = on_case & (c["attempt"] == first[issue])
    case_issue = np.flatnonzero(has)
    opened_at = np.full(len(has), NA)
    opened_at[issue[opening]] = c["queued"][opening]

    # Last touch per case decides how and when it closes (contacts are in attempt order).
    last_pos = np.full(len(has), -1)
    np.maximum.at(last_pos, ci, np.arange(len(ci)))
    last = last_pos[case_issue]
    last_issue, last_time, last_status = ci[last], touched[last], status[last]
    # Deterministic jitter from the case itself: no extra random stream needed.
    jitter = (last_issue * 2654435761 + batch.day) % (12 * HOUR)
    close_time = np.where(last_status == SOLVED, last_time + 3 * DAY, last_time + 14 * DAY) + jitter
    close_closed_at = np.where(last_status == SOLVED, last_time, close_time)

    ev_issue = np.concatenate([case_issue, ci, last_issue])
    ev_time = np.concatenate([opened_at[case_issue], touched, close_time])
    ev_status = np.concatenate(
        [np.full(len(case_issue), OPEN), status, np.full(len(last_issue), CLOSED)]
    )
    ev_closed = np.concatenate(
        [np.full(len(case_issue), NA), np.where(status == SOLVED, touched, NA), close_closed_at]
    )
    day = clock.local_day(ev_time)
    mine = (day >= start_day) & (day < end_day)
    ev_issue, ev_time, ev_status, ev_closed, day = (
        a[mine] for a in (ev_issue, ev_time, ev_status, ev_closed, day)
    )
    # The change set of a day holds each changed case once, in its last state of that day.
    order = np.lexsort((ev_time, day, ev_issue))
    ev_issue, ev_time, ev_status, ev_closed, day = (
        a[order] for a in (ev_issue, ev_time, ev_status, ev_closed, day)
    )
    keep = group_ends(ev_issue, day)
    ev_issue, ev_time, ev_status, ev_closed, day = (
        a[keep] for a in (ev_issue, ev_time, ev_status, ev_closed, day)
    )
    lag = (ev_issue * 40503 + day) % 600
    lag = np.where(clock.local_day(ev_time + lag) == day, lag, 0)  # same business day
    ev_time = ev_time + lag
    # Delivery order: day, file, updated_at.
    order = np.lexsort((ev_time, ev_status == CLOSED, day))
    ev_issue, ev_time, ev_status, ev_closed, day = (
        a[order] for a in (ev_issue, ev_time, ev_status, ev_closed, day)
    )
    cust = issues["cust"][ev_issue]
    reason = issues["reason"][ev_issue]
    return pa.table(
        {
            "case_id": case_ids(batch.day, ev_issue),
            "customer_id": pop.customer_id.take(pa.array(cust)),
            "opened_at": to_timestamp(opened_at[ev_issue]),
            "closed_at": to_timestamp(ev_closed),
            "status": pa.array(np.array(CASE_STATUSES)[ev_status]),
            "reason": pa.array(np.array(cat.REASONS)[reason]),
            "updated_at": to_timestamp(ev_time),
            "__day": pa.array(day, pa.int64()),
            "__file": pa.array(np.where(ev_status == CLOSED, "cases_autoclose", "cases")),
        }
    ).select([*CASES.column_names, "__day", "__file"])
