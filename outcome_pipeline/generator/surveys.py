"""Post-contact surveys: sent after a share of handled contacts, answered by a minority.

Scores follow what really happened (not what the agent claimed): an unresolved contact
gets low CSAT, NPS detractors and a hard CES (1-7, higher = easier). Unhappy customers
answer a little more often, as they do. Comments are short free text, sometimes with the
customer's email address in them (PII the pipeline must keep out of outcome tables).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.contracts.feeds import SURVEY_RESPONSES, SURVEY_SCORE_RANGES, SURVEY_TYPES
from outcome_pipeline.generator import catalog as cat
from outcome_pipeline.generator.cases import case_ids
from outcome_pipeline.generator.config import rng_for
from outcome_pipeline.generator.interactions import INTERACTION_ID_KIND
from outcome_pipeline.generator.population import (
    KeyedUniforms,
    Population,
    categorical,
    choice,
    hex_ids,
)
from outcome_pipeline.generator.timeutil import HOUR, BusinessClock, to_timestamp

RESPONSE_ID_KIND = 4
RESPOND = (0.19, 0.12)  # P(answer | sent), unresolved / resolved
TYPE_P = np.array([0.55, 0.25, 0.2])  # csat, nps, ces
_LOW = np.array([SURVEY_SCORE_RANGES[t][0] for t in SURVEY_TYPES])
# Score distributions, row = type * 2 + resolved; columns = score - low (padded to 11).
_SCORES = np.zeros((6, 11))
_SCORES[0, :5] = [0.35, 0.28, 0.2, 0.12, 0.05]
_SCORES[1, :5] = [0.02, 0.03, 0.08, 0.32, 0.55]
_SCORES[2, :] = [0.12, 0.1, 0.12, 0.12, 0.1, 0.1, 0.1, 0.08, 0.08, 0.05, 0.03]
_SCORES[3, :] = [0.01, 0.01, 0.01, 0.02, 0.02, 0.03, 0.05, 0.1, 0.2, 0.25, 0.3]
_SCORES[4, :7] = [0.25, 0.25, 0.2, 0.12, 0.08, 0.06, 0.04]
_SCORES[5, :7] = [0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.3]
POSITIVE = (
    "Quick and helpful, thanks",
    "Sorted first time",
    "Great service from Priya",
    "Very friendly and clear",
    "Problem fixed. Thank you!",
    "Très bien, merci",
)
NEGATIVE = (
    "Still not fixed",
    "Had to call three times",
    'Agent said "resolved", it is not',
    "Waited too long on hold",
    "Nobody called me back",
    "Will cancel if this continues",
)
NEUTRAL = ("OK", "Fine", "It was alright", "Took a while but got there")


def _comments(
    u: KeyedUniforms, keys: np.ndarray, resolved: np.ndarray, email: pa.Array
) -> pa.Array:
    pool = POSITIVE + NEGATIVE + NEUTRAL
    sentiment = np.where(resolved, 0, 1)
    sentiment = np.where(u(keys, 20) < 0.2, 2, sentiment)
    first = np.array([0, len(POSITIVE), len(POSITIVE) + len(NEGATIVE)])
    size = np.array([len(POSITIVE), len(NEGATIVE), len(NEUTRAL)])
    pick = first[sentiment] + (u(keys, 21) * size[sentiment]).astype(int)
    text = pc.take(pa.array(pool), pa.array(pick))
    with_pii = (u(keys, 22) < 0.06) & pc.is_valid(email).to_numpy(zero_copy_only=False)
    text = pc.if_else(
        pa.array(with_pii), pc.binary_join_element_wise(text, " - email me at ", email, ""), text
    )
    has = u(keys, 23) < np.where(resolved, 0.25, 0.45)
    return pc.if_else(pa.array(has), text, pa.scalar(None, pa.string()))


def survey_rows(
    seed: int,
    view: dict[str, object],
    pop: Population,
    clock: BusinessClock,
    start_day: int,
    end_day: int,
) -> tuple[pa.Table, dict[str, object]]:
    """Responses to surveys sent after a batch's delivered contacts, answered in [start, end).

    Draws are keyed by contact (see :class:`KeyedUniforms`), so a contact's survey does not
    depend on which other contacts the run covers.
    """
    day = view["day"]
    u = KeyedUniforms(rng_for(seed, "surveys", day))
    channel, resolved = view["channel"], view["resolved"]
    every = np.arange(len(channel), dtype=np.uint64)
    sent = view["handled"] & (u(every, 0) < cat.SURVEY_SEND[channel])
    answered = sent & (u(every, 1) < np.where(resolved, RESPOND[1], RESPOND[0]))
    idx = np.flatnonzero(answered)
    keys = idx.astype(np.uint64)
    k = len(idx)
    res = resolved[idx]
    stype = choice(u(keys, 2), k, TYPE_P)
    score = _LOW[stype] + categorical(u(keys, 3), _SCORES, stype * 2 + res)
    sent_at = view["ended"][idx] + np.exp(np.log(15 * 60) + 0.6 * u.normal(keys, 4)).astype(
        np.int64
    )
    wait = np.exp(np.log(3 * HOUR) + 1.3 * u.normal(keys, 6)).astype(np.int64)
    responded = sent_at + 60 + wait
    self_rep = np.where(
        res,
        choice(u(keys, 8), k, np.array([0.85, 0.07, 0.08])),
        choice(u(keys, 8), k, np.array([0.1, 0.78, 0.12])),
    )

    cust = view["cust"][idx]
    known = cust >= 0
    crm = pa.array(np.maximum(cust, 0))
    null = pa.scalar(None, pa.string())
    customer_id = pc.coalesce(
        view["customer_id"].take(pa.array(view["slot"][idx])),
        pc.if_else(pa.array(known & (u(keys, 9) < 0.5)), pop.customer_id.take(crm), null),
    )
    email = pc.if_else(pa.array(known & (u(keys, 10) < 0.45)), pop.email.take(crm), null)
    phone = pc.if_else(pa.array(known & (u(keys, 11) < 0.15)), pop.phone.take(crm), null)
    comment = _comments(u, keys, res, pc.if_else(pa.array(known), pop.email.take(crm), null))
    interaction_id = hex_ids("ix-", day * 16 + INTERACTION_ID_KIND, view["interaction_row"][idx])
    on_case = view["on_case"][idx] & (u(keys, 13) < 0.85)
    folder = clock.local_day(responded)
    table = pa.table(
        {
            "response_id": hex_ids("sr-", day * 16 + RESPONSE_ID_KIND, idx),
            "survey_type": pa.array(np.array(SURVEY_TYPES)[stype]),
            "score": pa.array(score, pa.int64()),
            "interaction_id": pc.if_else(pa.array(u(keys, 12) < 0.92), interaction_id, null),
            "case_id": case_ids(day, view["issue"][idx], on_case),
            "customer_id": customer_id,
            "customer_email": email,
            "customer_phone": phone,
            "sent_at": to_timestamp(sent_at),
            "responded_at": to_timestamp(responded),
            "resolved_self_reported": pa.array(self_rep == 0, mask=self_rep == 2),
            "comment": comment,
            "updated_at": to_timestamp(responded + (10 + u(keys, 14) * 590).astype(np.int64)),
            "__day": pa.array(folder, pa.int64()),
            "__file": pa.array(np.where(stype == 1, "survey_responses_nps", "survey_responses")),
        }
    ).select([*SURVEY_RESPONSES.column_names, "__day", "__file"])
    keep = (folder >= start_day) & (folder < end_day)
    counts = {
        "sent": int(sent.sum()),
        "responded": k,
        "score_sum_by_type_resolved": np.bincount(stype * 2 + res, weights=score, minlength=6),
        "count_by_type_resolved": np.bincount(stype * 2 + res, minlength=6),
    }
    order = np.lexsort((np.asarray(responded)[keep], stype[keep] == 1, folder[keep]))
    return table.filter(pa.array(keep)).take(pa.array(order)), counts
