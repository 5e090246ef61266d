"""Legs of a journey batch → rows of the ``interactions`` contract (plus truth counters)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.contracts.feeds import CHANNELS, DIRECTIONS, DISPOSITIONS, INTERACTIONS
from outcome_pipeline.generator import catalog as cat
from outcome_pipeline.generator.cases import case_ids
from outcome_pipeline.generator.config import rng_for
from outcome_pipeline.generator.identity import contact_identity
from outcome_pipeline.generator.journeys import DayBatch
from outcome_pipeline.generator.population import Population, hex_ids
from outcome_pipeline.generator.timeutil import NA, BusinessClock, to_timestamp

INTERACTION_ID_KIND = 1
STRANGERS = 200_000_000  # identity keys of people unknown to the CRM start here
# Which file of a day folder a channel's legs are exported to (see delivery.FILES).
CHANNEL_FILE = np.array(
    [
        "interactions_telephony",  # phone
        "interactions_digital",  # email
        "interactions_chat",  # chat
        "interactions_digital",  # social
        "interactions_chat",  # messaging
        "interactions_telephony",  # web
    ]
)


CHANNEL_FILE_RANK = np.unique(CHANNEL_FILE, return_inverse=True)[1]


def labels(values: tuple[str, ...], idx: np.ndarray) -> pa.Array:
    """Codes → strings; ``NA`` codes become nulls."""
    idx = np.asarray(idx)
    return pc.take(pa.array(values), pa.array(np.maximum(idx, 0), mask=idx < 0))


@dataclass
class Truth:
    """What really happened, counted over the contacts and issues of the run's days."""

    n_teams: int = len(cat.TEAMS)
    handled: np.ndarray = field(default_factory=lambda: np.zeros(len(cat.TEAMS), np.int64))
    resolved: np.ndarray = field(default_factory=lambda: np.zeros(len(cat.TEAMS), np.int64))
    claimed: np.ndarray = field(default_factory=lambda: np.zeros(len(cat.TEAMS), np.int64))
    false_claims: np.ndarray = field(default_factory=lambda: np.zeros(len(cat.TEAMS), np.int64))
    handle_seconds: np.ndarray = field(default_factory=lambda: np.zeros(len(cat.TEAMS), np.int64))
    legs: int = 0
    abandoned_legs: int = 0
    transfer_legs: int = 0
    issues: int = 0
    issues_resolved: int = 0
    issues_first_contact_resolved: int = 0
    issues_multi_channel: int = 0

    def add(
        self,
        batch: DayBatch,
        leg_kept: np.ndarray,
        start_day: int,
        end_day: int,
        clock: BusinessClock,
    ) -> None:
        L, C, issues = batch.legs, batch.contacts, batch.issues
        self.legs += int(leg_kept.sum())
        self.abandoned_legs += int((leg_kept & L["abandoned"]).sum())
        self.transfer_legs += int((leg_kept & (L["leg"] > 0)).sum())
        fin = C["final_row"]
        kept = leg_kept[C["first_row"]] & C["answered"]
        team = C["team"][kept]
        disp = C["disposition"][kept]
        ok = C["resolved"][kept]
        r = fin[kept]
        handle = L["talk"][r] + np.maximum(L["hold"][r], 0) + L["acw"][r]
        self.handled += np.bincount(team, minlength=self.n_teams)
        self.resolved += np.bincount(team, weights=ok, minlength=self.n_teams).astype(np.int64)
        claim = disp == cat.RESOLVED
        self.claimed += np.bincount(team, weights=claim, minlength=self.n_teams).astype(np.int64)
        self.false_claims += np.bincount(team, weights=claim & ~ok, minlength=self.n_teams).astype(
            np.int64
        )
        self.handle_seconds += np.bincount(team, weights=handle, minlength=self.n_teams).astype(
            np.int64
        )
        day = clock.local_day(issues["start"])
        mine = (day >= start_day) & (day < end_day)
        self.issues += int(mine.sum())
        self.issues_resolved += int((mine & issues["resolved"]).sum())
        self.issues_first_contact_resolved += int(
            (mine & issues["resolved"] & (issues["n_contacts"] == 1)).sum()
        )
        channels = np.zeros(len(mine), dtype=np.int64)
        np.bitwise_or.at(channels, C["issue"], 1 << C["channel"].astype(np.int64))
        multi = (channels & (channels - 1)) != 0
        self.issues_multi_channel += int((mine & multi).sum())

    def as_dict(self) -> dict[str, object]:
        teams = {}
        for i, t in enumerate(cat.TEAMS):
            h = int(self.handled[i])
            teams[t.name] = {
                "handled_contacts": h,
                "true_resolution_rate": round(self.resolved[i] / h, 4) if h else None,
                "claimed_resolved_rate": round(self.claimed[i] / h, 4) if h else None,
                "false_claim_rate": round(self.false_claims[i] / self.claimed[i], 4)
                if self.claimed[i]
                else None,
                "mean_handle_seconds": round(self.handle_seconds[i] / h, 1) if h else None,
            }
        n = self.issues
        return {
            "teams": teams,
            "fast_team": cat.FAST_TEAM,
            "thorough_team": cat.THOROUGH_TEAM,
            "interaction_legs": self.legs,
            "abandon_rate": round(self.abandoned_legs / self.legs, 4) if self.legs else None,
            "transfer_leg_share": round(self.transfer_legs / self.legs, 4) if self.legs else None,
            "issues_started": n,
            "issue_resolution_rate": round(self.issues_resolved / n, 4) if n else None,
            "first_contact_resolution_rate": round(self.issues_first_contact_resolved / n, 4)
            if n
            else None,
            "channel_switch_rate": round(self.issues_multi_channel / n, 4) if n else None,
        }


def interaction_rows(
    cfg_seed: int,
    batch: DayBatch,
    pop: Population,
    clock: BusinessClock,
    case_has: np.ndarray,
    case_first: np.ndarray,
    leg_kept: np.ndarray,
) -> tuple[pa.Table, dict[str, object]]:
    """Kept legs as contract rows (+ ``__day``, ``__file``) and a per-contact view for surveys."""
    L, C, issues = batch.legs, batch.contacts, batch.issues
    rng = rng_for(cfg_seed, "identity", batch.day)
    contact_kept = np.zeros(len(C["issue"]), dtype=bool)
    contact_kept[L["contact"][leg_kept]] = True
    ck = np.flatnonzero(contact_kept)
    cust = issues["cust"][C["issue"]]
    stranger = np.where(cust >= 0, cust, STRANGERS + (batch.day % 100) * 2_000_000 + C["issue"])
    outbound = C["direction"] == 1
    ident = contact_identity(rng, pop, cust, C["channel"], outbound, stranger, contact_kept)
    slot = np.full(len(C["issue"]), NA)
    slot[ck] = np.arange(len(ck))

    rows = np.flatnonzero(leg_kept)
    # Rows in delivery order (day, file, queued_at): the delivery's global sort then only
    # merges the batches' runs, which keeps its gathers cache-friendly.
    queued = L["queued"][rows]
    leg_day = clock.local_day(queued)
    file_rank = CHANNEL_FILE_RANK[C["channel"][L["contact"][rows]]]
    rows = rows[np.lexsort((queued, file_rank, leg_day))]
    namespace = batch.day * 16 + INTERACTION_ID_KIND
    contact = L["contact"][rows]
    leg_issue = C["issue"][contact]
    channel = C["channel"][contact]
    on_case = (
        case_has[leg_issue]
        & (C["attempt"][contact] >= case_first[leg_issue])
        & ~L["abandoned"][rows]
    )
    parent = L["parent_row"][rows]
    who = pa.array(slot[contact])
    table = pa.table(
        {
            "interaction_id": hex_ids("ix-", namespace, rows),
            "parent_interaction_id": pc.if_else(
                pa.array(parent >= 0),
                hex_ids("ix-", namespace, np.maximum(parent, 0)),
                pa.scalar(None, pa.string()),
            ),
            "channel": labels(CHANNELS, channel),
            "direction": labels(DIRECTIONS, C["direction"][contact]),
            "customer_id": ident["customer_id"].take(who),
            "customer_email": ident["customer_email"].take(who),
            "customer_phone": ident["customer_phone"].take(who),
            "queue": labels(cat.QUEUES, L["queue"][rows]),
            "team": labels(cat.TEAM_NAMES, L["team"][rows]),
            "agent_id": pop.agent_id.take(
                pa.array(np.maximum(L["agent"][rows], 0), mask=L["agent"][rows] < 0)
            ),
            "contact_reason": labels(
                cat.REASONS, np.where(L["abandoned"][rows], NA, issues["reason"][leg_issue])
            ),
            "case_id": case_ids(batch.day, leg_issue, on_case),
            "queued_at": to_timestamp(L["queued"][rows]),
            "answered_at": to_timestamp(L["answered"][rows]),
            "first_response_at": to_timestamp(L["first_response"][rows]),
            "ended_at": to_timestamp(L["ended"][rows]),
            "talk_seconds": pa.array(L["talk"][rows], mask=L["talk"][rows] < 0),
            "hold_seconds": pa.array(L["hold"][rows], mask=L["hold"][rows] < 0),
            "acw_seconds": pa.array(L["acw"][rows], mask=L["acw"][rows] < 0),
            "abandoned": pa.array(L["abandoned"][rows]),
            "disposition": labels(DISPOSITIONS, L["disposition"][rows]),
            "updated_at": to_timestamp(L["updated"][rows]),
            "__day": pa.array(np.sort(leg_day), pa.int64()),
            "__file": pa.array(CHANNEL_FILE[channel]),
        }
    ).select([*INTERACTIONS.column_names, "__day", "__file"])

    # Every contact of the batch, for the survey tool (surveys go after delivered ones).
    issue = C["issue"]
    delivered = leg_kept[C["final_row"]] & contact_kept
    view = {
        "day": batch.day,
        "interaction_row": C["final_row"],
        "issue": issue,
        "on_case": case_has[issue] & (C["attempt"] >= case_first[issue]),
        "customer_id": ident["customer_id"],
        "slot": slot,
        "cust": cust,
        "channel": C["channel"],
        "handled": C["answered"] & delivered,
        "resolved": C["resolved"],
        "ended": C["ended"],
    }
    return table, view
