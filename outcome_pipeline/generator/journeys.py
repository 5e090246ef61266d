"""Issues simulated as journeys: a first contact, then repeats until resolved or given up.

One batch per *issue start day*, each from its own random stream: an issue raised on day D
may come back on D+1..D+20, in another channel, after an agent wrongly claimed it resolved.
Everything is vectorised over the issues still open at each attempt (at most
``MAX_ATTEMPTS`` rounds), and over the contacts still being transferred at each leg.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from outcome_pipeline.generator import catalog as cat
from outcome_pipeline.generator.config import GeneratorConfig, rng_for
from outcome_pipeline.generator.population import Population, categorical, choice
from outcome_pipeline.generator.timeutil import DAY, HOUR, NA, BusinessClock

MAX_ATTEMPTS = 8
MAX_LEGS = 3
PROSPECT_SHARE = 0.03  # issues raised by people unknown to the CRM
ONBOARDING_SHARE = 0.25  # new signups who soon contact about setting up
INBOUND, OUTBOUND = 0, 1
LOG_WAIT = np.log(cat.WAIT_MEDIAN)
LOG_PATIENCE = np.log(cat.PATIENCE_MEDIAN)
LOG_TALK = np.log(cat.TALK_MEDIAN)
LOG_TEAM_TALK = np.log(cat.TEAM_TALK)
LOG_TEAM_ACW = np.log(cat.TEAM_ACW)
LOG_HOLD = np.log(60.0)
# Gap before a repeat contact: retry after an abandon, hours, days, more than a week.
LOG_GAP_MEDIAN = np.log(np.array([20 * 60.0, 2.5 * HOUR, 1.6 * DAY, 10 * DAY]))
GAP_SIGMA = np.array([0.8, 0.8, 0.6, 0.35])

Columns = dict[str, np.ndarray]


@dataclass
class DayBatch:
    """Issues raised on one day, their contacts (attempts) and the legs of those contacts."""

    day: int  # epoch day the issues started on
    issues: Columns
    contacts: Columns
    legs: Columns


def concat(parts: list[Columns]) -> Columns:
    keys = parts[0].keys()
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


def group_ends(*keys: np.ndarray) -> np.ndarray:
    """For rows sorted by ``keys``: True on the last row of each run of equal keys."""
    n = len(keys[0])
    change = np.zeros(max(n - 1, 0), dtype=bool)
    for k in keys:
        change |= k[1:] != k[:-1]
    return np.append(change, n > 0)[:n]


def take(cols: Columns, idx: np.ndarray) -> Columns:
    return {k: v[idx] for k, v in cols.items()}


def _lognormal(
    rng: np.random.Generator, median: np.ndarray, sigma: np.ndarray | float
) -> np.ndarray:
    return _lognormal_log(rng, np.log(median), sigma)


def _lognormal_log(
    rng: np.random.Generator, log_median: np.ndarray, sigma: np.ndarray | float
) -> np.ndarray:
    """Lognormal draws given the log of the median (float32: plenty for seconds, faster)."""
    z = rng.standard_normal(np.shape(log_median), dtype=np.float32)
    sigma = np.asarray(sigma, dtype=np.float32)
    return np.exp(np.asarray(log_median, dtype=np.float32) + sigma * z)


def _seconds(x: np.ndarray) -> np.ndarray:
    return np.maximum(np.rint(x), 1).astype(np.int64)


class JourneySimulator:
    """Turns (population, day) into a :class:`DayBatch`; pure function of the seed."""

    def __init__(self, cfg: GeneratorConfig, pop: Population, clock: BusinessClock) -> None:
        self.cfg = cfg
        self.pop = pop
        self.clock = clock
        self.log_load = np.log(
            np.stack([cat.HOURLY_WEEKDAY, cat.HOURLY_WEEKEND]) / cat.HOURLY_WEEKDAY.mean()
        )
        self.reason_first = np.searchsorted(cat.REASON_QUEUE, np.arange(len(cat.QUEUES)))
        self.reason_count = np.bincount(cat.REASON_QUEUE, minlength=len(cat.QUEUES))
        self.repeat_mix = cat.CHANNEL_MIX * np.array([1.6, 1, 1, 0.5, 1, 1])
        self.hourly = np.stack([cat.HOURLY_WEEKDAY, cat.HOURLY_WEEKEND])
        self.routing = np.concatenate([cat.ROUTING_SYNC, cat.ROUTING_ASYNC])

    # --- calendar helpers ------------------------------------------------------------
    def _time_of_day(self, rng: np.random.Generator, weekend: np.ndarray) -> np.ndarray:
        n = len(weekend)
        hour = categorical(rng, self.hourly, weekend.astype(np.int64))
        return hour * HOUR + rng.integers(0, HOUR, n)

    def _local_times(self, rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
        weekend = (days + 3) % 7 >= 5
        return self.clock.local_to_utc(days * DAY + self._time_of_day(rng, weekend))

    def _log_load(self, t: np.ndarray) -> np.ndarray:
        """Log of the relative traffic at each instant: queues are slower at peak."""
        local = t + self.clock.offset(t)
        hour = (local % DAY) // HOUR
        weekend = (local // DAY + 3) % 7 >= 5
        return self.log_load[weekend.astype(np.int64), hour]

    # --- issues ----------------------------------------------------------------------
    def _issues(self, rng: np.random.Generator, day: int) -> Columns:
        pop = self.pop
        rate = (
            self.cfg.interactions_per_day * cat.DOW_FACTOR[(day + 3) % 7] / self.cfg.rows_per_issue
        )
        n = int(rng.poisson(rate))
        # Sorted keys make the binary searches walk the CDF in order (much faster).
        keys = np.sort(rng.random(n)) * pop.activity_cdf[-1]
        cust = np.searchsorted(pop.activity_cdf, keys, "right")
        cust = np.minimum(cust, pop.n_base - 1)
        cust[rng.random(n) < PROSPECT_SHARE] = NA
        start = self._local_times(rng, np.full(n, day))
        seg = np.where(cust >= 0, pop.segment[np.maximum(cust, 0)], 0)
        queue = categorical(rng, cat.QUEUE_MIX, seg)
        queue[(cust < 0) & (rng.random(n) < 0.7)] = cat.SALES
        reason = self.reason_first[queue] + (rng.random(n) * self.reason_count[queue]).astype(int)

        # New signups of this day who need help getting started.
        signed = np.flatnonzero(pop.signup_day == day)
        signed = signed[rng.random(len(signed)) < ONBOARDING_SHARE]
        delay = _seconds(_lognormal(rng, np.full(len(signed), 1.5 * DAY), 0.8))
        ob_start = pop.created_at[signed] + delay
        ob_reason = cat.ONBOARDING_REASONS[rng.integers(0, 2, len(signed))]

        cust = np.concatenate([cust, signed])
        seg = np.concatenate([seg, pop.segment[signed]])
        reason = np.concatenate([reason, ob_reason])
        queue = cat.REASON_QUEUE[reason]
        start = np.concatenate([start, ob_start])
        channel = categorical(rng, cat.CHANNEL_MIX, seg)
        case_p = cat.REASON_CASE[reason] + 0.3 * (channel == cat.EMAIL)
        has_case = (cust >= 0) & (rng.random(len(cust)) < case_p)
        return {
            "cust": cust.astype(np.int64),
            "segment": seg.astype(np.int8),
            "queue": queue.astype(np.int8),
            "reason": reason.astype(np.int16),
            "channel": channel.astype(np.int8),
            "start": start.astype(np.int64),
            "has_case": has_case,
        }

    # --- legs of one round of contacts -----------------------------------------------
    def _route(
        self, rng: np.random.Generator, queue: np.ndarray, channel: np.ndarray
    ) -> np.ndarray:
        return categorical(rng, self.routing, queue + len(cat.QUEUES) * cat.ASYNC[channel])

    def _legs(self, rng: np.random.Generator, c: Columns) -> tuple[Columns, np.ndarray]:
        """All legs of the contacts ``c``; returns (legs, row of each contact's final leg)."""
        pop = self.pop
        m = len(c["channel"])
        cur = np.arange(m)
        queue, t = c["queue"].copy(), c["queued"].copy()
        parent = np.full(m, NA)
        blocks: list[Columns] = []
        final_row = np.empty(m, dtype=np.int64)
        offset = 0
        for leg in range(MAX_LEGS):
            k = len(cur)
            ch = c["channel"][cur]
            inbound = c["direction"][cur] == INBOUND
            team = self._route(rng, queue, ch)
            agent = pop.team_first_agent[team] + (rng.random(k) * pop.team_agents[team]).astype(int)
            log_wait = LOG_WAIT[ch] + 1.3 * self._log_load(t)
            wait = _lognormal_log(rng, log_wait, cat.WAIT_SIGMA[ch])
            wait = np.where(inbound, wait, rng.uniform(5, 25, k))
            patience = _lognormal_log(rng, LOG_PATIENCE[ch], 0.8)
            abandoned = cat.ABANDONABLE[ch] & inbound & (wait > patience)
            answered = t + _seconds(wait)
            talk = _seconds(
                _lognormal_log(rng, LOG_TALK[ch] + LOG_TEAM_TALK[team], cat.TALK_SIGMA[ch])
            )
            has_hold = cat.HAS_HOLD[ch] & (rng.random(k) < 0.35)
            hold = _seconds(_lognormal_log(rng, LOG_HOLD + LOG_TEAM_TALK[team], 0.8))
            hold = np.where(has_hold, hold, 0)
            acw = _seconds(_lognormal_log(rng, LOG_TEAM_ACW[team], 0.7))
            ended = answered + (talk * cat.DWELL_FACTOR[ch]).astype(np.int64) + hold
            ended = np.where(abandoned, t + _seconds(patience), ended)
            transfer = (
                ~abandoned
                & cat.TRANSFERABLE[ch]
                & (leg < MAX_LEGS - 1)
                & (rng.random(k) < cat.TEAM_TRANSFER[team] * (1.0 if leg == 0 else 0.3))
            )
            lag = rng.integers(5, 900, k)
            updated = np.where(abandoned, ended, ended + acw) + lag
            blocks.append(
                {
                    "contact": cur,
                    "leg": np.full(k, leg, dtype=np.int8),
                    "parent_row": parent,
                    "queue": queue.astype(np.int8),
                    "team": np.where(abandoned, NA, team),
                    "agent": np.where(abandoned, NA, agent),
                    "queued": t,
                    "answered": np.where(abandoned, NA, answered),
                    "first_response": np.where(cat.ASYNC[ch] & ~abandoned, answered, NA),
                    "ended": ended,
                    "talk": np.where(abandoned, NA, talk),
                    "hold": np.where(abandoned | ~cat.HAS_HOLD[ch], NA, hold),
                    "acw": np.where(abandoned, NA, acw),
                    "abandoned": abandoned,
                    "final": ~transfer,
                    "updated": updated,
                }
            )
            rows = offset + np.arange(k)
            final_row[cur[~transfer]] = rows[~transfer]
            offset += k
            parent, cur = rows[transfer], cur[transfer]
            queue = categorical(rng, cat.TRANSFER_TARGET, queue[transfer])
            t = ended[transfer] + rng.integers(1, 20, len(cur))
            if not len(cur):
                break
        return concat(blocks), final_row

    # --- journeys --------------------------------------------------------------------
    def _gaps(
        self, rng: np.random.Generator, prev_end: np.ndarray, abandoned: np.ndarray
    ) -> np.ndarray:
        """When the customer comes back: minutes after an abandon, usually hours to days,
        sometimes more than a week (the journey window then splits the issue)."""
        k = len(prev_end)
        u = rng.random(k)
        kind = np.where(u < 0.25, 1, np.where(u < 0.9, 2, 3))  # short, medium, long
        kind = np.where(abandoned & (u < 0.6), 0, kind)  # quick retry after giving up
        gap = _lognormal_log(rng, LOG_GAP_MEDIAN[kind], GAP_SIGMA[kind])
        t = prev_end + _seconds(gap)
        # Customers who come back another day do so at the usual hours of that day.
        later = gap > 12 * HOUR
        snapped = self._local_times(rng, self.clock.local_day(t))
        snapped = np.where(snapped <= prev_end + HOUR, snapped + DAY, snapped)
        return np.where(later, snapped, t)

    def simulate(self, day: int) -> DayBatch:
        rng = rng_for(self.cfg.seed, "issues", day)
        pop = self.pop
        issues = self._issues(rng, day)
        n = len(issues["cust"])
        active = np.arange(n)
        channel = issues["channel"].copy()
        t = issues["start"].copy()
        direction = np.zeros(n, dtype=np.int8)
        n_contacts = np.zeros(n, dtype=np.int64)
        resolved = np.zeros(n, dtype=bool)
        end = np.zeros(n, dtype=np.int64)
        contact_parts: list[Columns] = []
        leg_parts: list[Columns] = []
        legs_so_far = contacts_so_far = 0
        for attempt in range(MAX_ATTEMPTS):
            m = len(active)
            if not m:
                break
            c = {
                "issue": active,
                "attempt": np.full(m, attempt, dtype=np.int8),
                "channel": channel,
                "direction": direction,
                "queue": issues["queue"][active],
                "queued": t,
            }
            legs, final_row = self._legs(rng, c)
            fin = take(legs, final_row)
            abandoned = fin["abandoned"]
            team = np.maximum(fin["team"], 0)
            skill = pop.agent_skill[np.maximum(fin["agent"], 0)]
            cust = issues["cust"][active]
            p = (
                cat.REASON_RESOLVE[issues["reason"][active]]
                * cat.TEAM_RESOLVE[team]
                * skill
                * np.where(cust >= 0, pop.ease[np.maximum(cust, 0)], 1.0)
                * cat.CHANNEL_RESOLVE[channel]
                * (1 + 0.08 * attempt)
                * self.cfg.resolve_factor
            )
            ok = ~abandoned & (rng.random(m) < np.clip(p, 0.02, 0.97))
            honest = cat.HONEST_DISPOSITION[choice(rng, m, cat.HONEST_P)]
            claims = rng.random(m) < cat.TEAM_CLAIM[team]
            disp = np.where(
                ok,
                np.where(rng.random(m) < cat.TEAM_CONFIRM[team], cat.RESOLVED, cat.FOLLOW_UP),
                np.where(claims, cat.RESOLVED, honest),
            )
            disp = np.where(abandoned, NA, disp)
            legs["disposition"] = np.full(len(legs["leg"]), NA)
            legs["disposition"][final_row] = disp
            legs["contact"] = legs["contact"] + contacts_so_far
            legs["parent_row"] = np.where(
                legs["parent_row"] >= 0, legs["parent_row"] + legs_so_far, NA
            )
            c.update(
                final_row=final_row + legs_so_far,
                first_row=np.arange(m) + legs_so_far,
                answered=~abandoned,
                resolved=ok,
                disposition=disp,
                team=fin["team"],
                ended=fin["ended"],
                updated=fin["updated"],
            )
            contact_parts.append(c)
            leg_parts.append(legs)
            legs_so_far += len(legs["leg"])
            contacts_so_far += m
            n_contacts[active] += 1
            resolved[active] = ok
            end[active] = fin["ended"]

            # Who comes back: most of the unresolved, fewer after being told it is fixed.
            p_back = np.where(abandoned, 0.85, 0.78) * 0.93**attempt
            p_back = p_back * np.where(disp == cat.RESOLVED, 0.85, 1.0)
            back = ~ok & (rng.random(m) < p_back)
            k = int(back.sum())
            seg = issues["segment"][active[back]]
            same = rng.random(k) < np.where(abandoned[back], 0.8, 0.6)
            switched = categorical(rng, self.repeat_mix, seg)
            channel = np.where(same, channel[back], switched).astype(np.int8)
            callback = (disp[back] == cat.FOLLOW_UP) & (rng.random(k) < 0.3)
            channel = np.where(
                callback, np.where(rng.random(k) < 0.7, cat.PHONE, cat.EMAIL), channel
            ).astype(np.int8)
            direction = np.where(callback, OUTBOUND, INBOUND).astype(np.int8)
            t = self._gaps(rng, fin["ended"][back], abandoned[back])
            active = active[back]
        issues.update(n_contacts=n_contacts, resolved=resolved, end=end)
        return DayBatch(day, issues, concat(contact_parts), concat(leg_parts))
