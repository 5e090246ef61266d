"""CRM customers and subscription lifecycle: signups, activation, plan changes, churn.

Churn is where the planted outcome structure lives: an issue that was not really resolved
makes its customer churn in the following weeks ~12x as often as a resolved one; measured per
issue (customers have several issues, troubled customers fail more often) churn within 30/90
days after an unresolved issue is ~3x the rate after a resolved one. Every customer
has at most one plan change, one churn and one reactivation in a run, which keeps MRR
before/after consistent without a per-customer event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from outcome_pipeline.contracts.feeds import (
    CUSTOMERS,
    EVENT_TYPES,
    PLANS,
    SEGMENTS,
    SUBSCRIPTION_EVENTS,
)
from outcome_pipeline.generator import catalog as cat
from outcome_pipeline.generator.config import GeneratorConfig, rng_for
from outcome_pipeline.generator.journeys import Columns, DayBatch, group_ends
from outcome_pipeline.generator.population import Population, hex_ids
from outcome_pipeline.generator.timeutil import DAY, NA, BusinessClock, epoch_day, to_timestamp

NEVER = np.iinfo(np.int64).max // 4
CHURN_RESOLVED = 0.006  # P(churn after an issue that was really resolved)
CHURN_UNRESOLVED = 0.07  # ... after one that was not
CHURN_SEGMENT = np.array([1.0, 0.8, 0.5])
BASE_CHURN_PER_DAY = 0.0001
PLAN_CHANGE_PER_DAY = 0.0008
MOVE_PER_DAY = 0.0002
REACTIVATE = 0.12
EVENT_ID_KIND = 3
SIGNUP, ACTIVATED, UPGRADE, DOWNGRADE, CHURN, REACTIVATE_EV = range(len(EVENT_TYPES))


def churn_candidates(seed: int, batch: DayBatch) -> Columns:
    """Churn drawn for the customers of this batch's issues (the structure to discover)."""
    rng = rng_for(seed, "churn", batch.day)
    i = batch.issues
    n = len(i["cust"])
    p = np.where(i["resolved"], CHURN_RESOLVED, CHURN_UNRESOLVED) * CHURN_SEGMENT[i["segment"]]
    p = p * np.where(i["n_contacts"] >= 3, 1.25, 1.0)
    hit = (i["cust"] >= 0) & (rng.random(n) < p)
    delay = np.minimum(1 + rng.exponential(20, n), 90) * DAY
    involuntary = rng.random(n) < np.where(i["reason"] == cat.PAYMENT_FAILED, 0.6, 0.15)
    return _churn(rng, i["cust"][hit], (i["end"] + delay.astype(np.int64))[hit], involuntary[hit])


def _churn(rng: np.random.Generator, cust: np.ndarray, t: np.ndarray, invol: np.ndarray) -> Columns:
    k = len(cust)
    back = rng.random(k) < REACTIVATE
    t_back = t + (rng.uniform(5, 60, k) * DAY).astype(np.int64)
    return {"cust": cust, "t": t, "invol": invol, "t_back": np.where(back, t_back, NEVER)}


def _first_per_customer(n: int, cust: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Index (into the candidates) of each customer's earliest candidate; -1 if none."""
    order = np.lexsort((t, cust))
    starts = np.append(len(order) > 0, cust[order][1:] != cust[order][:-1])[: len(order)]
    first = order[starts]
    out = np.full(n, -1)
    out[cust[first]] = first
    return out


def _pick(values: np.ndarray, index: np.ndarray, default: object) -> np.ndarray:
    """``values[index]`` where ``index >= 0``, else ``default``."""
    if not len(values):
        return np.full(len(index), default)
    return np.where(index >= 0, values[np.maximum(index, 0)], default)


@dataclass
class Lifecycle:
    """Per customer: initial state, and the time of each change (``NEVER`` if none)."""

    t_plan: np.ndarray
    plan1: np.ndarray
    mrr1: np.ndarray
    t_churn: np.ndarray
    involuntary: np.ndarray
    t_back: np.ndarray
    t_move: np.ndarray
    region1: np.ndarray
    t_active: np.ndarray

    def state(self, pop: Population, idx: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, ...]:
        """(plan, mrr, region) of customers ``idx`` at times ``t``."""
        changed = self.t_plan[idx] <= t
        plan = np.where(changed, self.plan1[idx], pop.plan[idx])
        mrr = np.where(changed, self.mrr1[idx], pop.mrr[idx])
        churned = (self.t_churn[idx] <= t) & ~(self.t_back[idx] <= t)
        mrr = np.where(churned, 0.0, mrr)
        region = np.where(self.t_move[idx] <= t, self.region1[idx], pop.region[idx])
        return plan, mrr, region


def lifecycle(
    cfg: GeneratorConfig, pop: Population, clock: BusinessClock, issue_churn: list[Columns]
) -> Lifecycle:
    """Combine issue-driven churn with baseline churn, plan changes, moves and activations."""
    n = pop.n
    start_day = epoch_day(cfg.start)
    churn_parts, plan_parts, move_parts = list(issue_churn), [], []
    for d in range(start_day, start_day + cfg.days):
        rng = rng_for(cfg.seed, "lifecycle", d)
        for parts, rate in (
            (churn_parts, BASE_CHURN_PER_DAY),
            (plan_parts, PLAN_CHANGE_PER_DAY),
            (move_parts, MOVE_PER_DAY),
        ):
            # Customers who exist by day d (base, then signups in day order): a longer
            # run must not change an earlier day's draws.
            existing = pop.n_base + int(
                np.count_nonzero((pop.signup_day >= 0) & (pop.signup_day < d))
            )
            k = int(rng.binomial(existing, rate))
            cust = rng.integers(0, existing, k)
            t = clock.local_to_utc(d * DAY + rng.integers(8 * 3600, 22 * 3600, k))
            ok = t > pop.created_at[cust] + DAY
            if parts is churn_parts:
                parts.append(_churn(rng, cust[ok], t[ok], rng.random(k)[ok] < 0.45))
            else:
                parts.append({"cust": cust[ok], "t": t[ok], "u": rng.random(k)[ok]})
    ch = {k: np.concatenate([p[k] for p in churn_parts]) for k in churn_parts[0]}
    first = _first_per_customer(n, ch["cust"], ch["t"])
    t_churn = _pick(ch["t"], first, NEVER)
    involuntary = _pick(ch["invol"], first, False)
    t_back = _pick(ch["t_back"], first, NEVER)

    pl = {k: np.concatenate([p[k] for p in plan_parts]) for k in plan_parts[0]}
    pfirst = _first_per_customer(n, pl["cust"], pl["t"])
    t_plan = _pick(pl["t"], pfirst, NEVER)
    t_plan = np.where((t_plan >= t_churn) & (t_plan < t_back), NEVER, t_plan)
    up = _pick(pl["u"], pfirst, 0.0) < 0.6
    plan1 = np.where(up, pop.plan + 1, pop.plan - 1)
    plan1 = np.where(plan1 > 2, 1, np.where(plan1 < 0, 1, plan1)).astype(np.int8)
    mrr1 = np.round(pop.mrr * cat.PLAN_PRICE[plan1] / cat.PLAN_PRICE[pop.plan], 2)

    mv = {k: np.concatenate([p[k] for p in move_parts]) for k in move_parts[0]}
    mfirst = _first_per_customer(n, mv["cust"], mv["t"])
    t_move = _pick(mv["t"], mfirst, NEVER)
    shift = 1 + (_pick(mv["u"], mfirst, 0.0) * 7).astype(int)
    region1 = ((pop.region + shift) % len(cat.REGIONS)).astype(np.int8)

    t_active = np.full(n, NEVER)
    for d in range(start_day, start_day + cfg.days):
        rng = rng_for(cfg.seed, "activation", d)
        mine = np.flatnonzero(pop.signup_day == d)
        delay = np.exp(np.log(3 * DAY) + 0.9 * rng.standard_normal(len(mine))).astype(np.int64)
        t_active[mine] = np.where(rng.random(len(mine)) < 0.85, pop.created_at[mine] + delay, NEVER)
    return Lifecycle(t_plan, plan1, mrr1, t_churn, involuntary, t_back, t_move, region1, t_active)


def subscription_event_rows(
    cfg: GeneratorConfig, pop: Population, clock: BusinessClock, lc: Lifecycle
) -> pa.Table:
    start_day = epoch_day(cfg.start)
    end_day = start_day + cfg.days
    signed = np.flatnonzero(pop.signup_day >= 0)
    all_c = np.arange(pop.n)
    cust = np.concatenate([signed, all_c, all_c, all_c, all_c])
    t = np.concatenate([pop.created_at[signed], lc.t_active, lc.t_plan, lc.t_churn, lc.t_back])
    up = lc.plan1 > pop.plan
    kind = np.concatenate(
        [
            np.full(len(signed), SIGNUP),
            np.full(pop.n, ACTIVATED),
            np.where(up, UPGRADE, DOWNGRADE),
            np.full(pop.n, CHURN),
            np.full(pop.n, REACTIVATE_EV),
        ]
    )
    live = t < NEVER
    cust, t, kind = cust[live], t[live], kind[live]
    day = clock.local_day(t)
    keep = (day >= start_day) & (day < end_day)
    cust, t, kind, day = cust[keep], t[keep], kind[keep], day[keep]
    order = np.lexsort((kind, cust, t, day))
    cust, t, kind, day = cust[order], t[order], kind[order], day[order]
    _, before_mrr, _ = lc.state(pop, cust, t - 1)
    _, after_mrr, _ = lc.state(pop, cust, t)
    before_mrr = np.where(kind == SIGNUP, 0.0, before_mrr)
    seq = np.arange(len(cust)) - np.searchsorted(day, day)  # position within its day
    ids = (
        pa.concat_arrays(
            [hex_ids("ev-", int(d) * 16 + EVENT_ID_KIND, seq[day == d]) for d in np.unique(day)]
        )
        if len(day)
        else pa.array([], pa.string())
    )
    churn_type = np.where(kind == CHURN, np.where(lc.involuntary[cust], 1, 0), NA)
    billing = (kind == REACTIVATE_EV) | (kind == CHURN)  # cancellations come from billing
    return pa.table(
        {
            "event_id": ids,
            "customer_id": pop.customer_id.take(pa.array(cust)),
            "event_type": pa.array(np.array(EVENT_TYPES)[kind]),
            "occurred_at": to_timestamp(t),
            "mrr_before": pa.array(before_mrr, pa.float64()),
            "mrr_after": pa.array(after_mrr, pa.float64()),
            "churn_type": pa.array(
                np.array(["voluntary", "involuntary"])[np.maximum(churn_type, 0)],
                mask=churn_type < 0,
            ),
            "updated_at": to_timestamp(t + 30 + (cust * 7919 + kind) % 3000),
            "__day": pa.array(day, pa.int64()),
            "__file": pa.array(
                np.where(billing, "subscription_events_billing", "subscription_events")
            ),
        }
    ).select([*SUBSCRIPTION_EVENTS.column_names, "__day", "__file"])


def customer_rows(
    cfg: GeneratorConfig, pop: Population, clock: BusinessClock, lc: Lifecycle
) -> pa.Table:
    """Day one: the full snapshot; later days: customers created or changed that day."""
    start_day = epoch_day(cfg.start)
    end_day = start_day + cfg.days
    all_c = np.arange(pop.n)
    cust = np.concatenate([all_c] * 5)
    t = np.concatenate([pop.created_at, lc.t_plan, lc.t_churn, lc.t_back, lc.t_move])
    live = t < NEVER
    cust, t = cust[live], t[live]
    day = clock.local_day(t)
    keep = (day > start_day) & (day < end_day)
    cust, t, day = cust[keep], t[keep], day[keep]
    order = np.lexsort((t, day, cust))
    cust, t, day = cust[order], t[order], day[order]
    last = group_ends(cust, day)
    cust, t, day = cust[last], t[last], day[last]

    # Snapshot of the first day: everyone created by its end, as of their last change.
    first_end = clock.local_to_utc(np.array([(start_day + 1) * DAY]))[0] - 1
    snap = np.flatnonzero(pop.created_at <= first_end)
    changes = np.stack([lc.t_plan, lc.t_churn, lc.t_back, lc.t_move])[:, snap]
    changes = np.where(changes <= first_end, changes, 0)
    snap_t = np.maximum(pop.last_modified[snap], changes.max(axis=0))
    snap_t = np.maximum(snap_t, pop.created_at[snap])

    idx = np.concatenate([snap, cust])
    when = np.concatenate([snap_t, t])
    days = np.concatenate([np.full(len(snap), start_day), day])
    plan, mrr, region = lc.state(pop, idx, when)
    signup_file = (pop.signup_day[idx] == days) & (days > start_day)
    lag = 60 + (idx * 7919 + days) % 1800
    # The export stamps the change a little later, but on the same business day.
    lag = np.where(clock.local_day(when + lag) == days, lag, 0)
    updated = when + np.where(days == start_day, 0, lag)
    order = np.lexsort((updated, signup_file, days))  # delivery order: day, file, updated_at
    idx, when, days, updated = idx[order], when[order], days[order], updated[order]
    plan, mrr, region, signup_file = plan[order], mrr[order], region[order], signup_file[order]
    return pa.table(
        {
            "customer_id": pop.customer_id.take(pa.array(idx)),
            "email": pop.email.take(pa.array(idx)),
            "phone": pop.phone.take(pa.array(idx)),
            "segment": pa.array(np.array(SEGMENTS)[pop.segment[idx]]),
            "plan": pa.array(np.array(PLANS)[plan]),
            "region": pa.array(np.array(cat.REGIONS)[region]),
            "created_at": to_timestamp(pop.created_at[idx]),
            "mrr": pa.array(mrr, pa.float64()),
            "updated_at": to_timestamp(updated),
            "__day": pa.array(days, pa.int64()),
            "__file": pa.array(np.where(signup_file, "customers_signups", "customers")),
        }
    ).select([*CUSTOMERS.column_names, "__day", "__file"])
