"""Who the contact platform says the customer is: a CRM id, or only an email or a phone.

Real platforms know the CRM id only when the customer logged in or the IVR matched them;
otherwise they hold whatever the customer typed or the caller id, written however the
channel writes it (``07700 900123`` vs ``+447700900123``, ``  Olivia.Smith1@Gmail.Com``).
Some contacts are anonymous, some carry placeholders (``unknown``, ``withheld``), some
carry identifiers the CRM has never seen (prospects, a second phone, a mistyped id).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.generator import catalog as cat
from outcome_pipeline.generator.population import Population, choice, digits, e164

# Per channel (phone, email, chat, social, messaging, web).
EMAIL_GIVEN = np.array([0.03, 1.0, 0.5, 0.15, 0.05, 0.5])
PHONE_GIVEN = np.array([0.92, 0.02, 0.05, 0.0, 0.9, 0.5])
ANONYMOUS = np.array([0.08, 0.0, 0.25, 0.55, 0.05, 0.3])
EMAIL_PLACEHOLDERS = ("anonymous", "unknown", "noreply@invalid")
PHONE_PLACEHOLDERS = ("withheld", "unknown", "anonymous", "0000000000")
NULL = pa.scalar(None, pa.string())
_UNKNOWN_PHONES = 500_000_000  # numbers from here up are not any customer's


def _mask(m: np.ndarray) -> pa.Array:
    return pa.array(m, pa.bool_())


def _scatter(n: int, mask: np.ndarray, values: pa.Array) -> pa.Array:
    """An n-long array holding ``values`` where ``mask`` is set, null elsewhere."""
    return pc.replace_with_mask(pa.nulls(n, pa.string()), _mask(mask), values)


def _email_variants(email: pa.Array, variant: np.ndarray) -> pa.Array:
    """The same address as typed in different systems: case and stray whitespace."""
    return pc.choose(
        pa.array(variant, pa.int8()),
        email,
        pc.utf8_upper(email),
        pc.utf8_title(email),
        pc.binary_join_element_wise(" ", email, ""),
        pc.binary_join_element_wise(email, "  ", ""),
    )


def _phone_variants(phone: pa.Array, variant: np.ndarray) -> pa.Array:
    """E.164 ``+447700900123`` or a national / spaced / 0044 rendering of it."""
    national = pc.utf8_slice_codeunits(phone, 3)  # 10 digits after +44
    head, tail = pc.utf8_slice_codeunits(national, 0, 4), pc.utf8_slice_codeunits(national, 4)
    return pc.choose(
        pa.array(variant, pa.int8()),
        phone,
        pc.binary_join_element_wise("0", head, " ", tail, ""),
        pc.binary_join_element_wise("0", national, ""),
        pc.binary_join_element_wise("+44 ", head, " ", tail, ""),
        pc.binary_join_element_wise("0044", national, ""),
    )


def contact_identity(
    rng: np.random.Generator,
    pop: Population,
    cust: np.ndarray,
    channel: np.ndarray,
    outbound: np.ndarray,
    stranger_key: np.ndarray,
    needed: np.ndarray,
) -> dict[str, pa.Array]:
    """``customer_id``, ``customer_email``, ``customer_phone`` of the ``needed`` contacts.

    ``cust`` is the true customer (-1: a prospect unknown to the CRM, identified across
    contacts by ``stranger_key``); ``outbound`` contacts were placed by an agent from the
    CRM record and always carry the id. Every contact of the batch draws its randomness
    (so the draws do not depend on which contacts fall in the run); strings are built only
    for the ``needed`` ones.
    """
    n = len(cust)
    known = cust >= 0
    has_id = known & ((rng.random(n) < cat.CHANNEL_ID_RATE[channel]) | outbound)
    bogus = has_id & (rng.random(n) < 0.003)
    anonymous = ~has_id & (rng.random(n) < ANONYMOUS[channel])
    give_email = ~anonymous & (rng.random(n) < EMAIL_GIVEN[channel])
    give_phone = ~anonymous & (rng.random(n) < PHONE_GIVEN[channel])
    typo = rng.integers(0, 10**7, n)
    other_phone = ~known | (rng.random(n) < 0.04)  # a prospect, or calling from another phone
    placeholder = anonymous & (rng.random(n) < 0.5)
    on_email = placeholder & (rng.random(n) < 0.4)
    email_ph = rng.integers(0, len(EMAIL_PLACEHOLDERS), n)
    phone_ph = rng.integers(0, len(PHONE_PLACEHOLDERS), n)
    email_variant = choice(rng, n, np.array([0.6, 0.08, 0.12, 0.1, 0.1]))
    phone_variant = choice(rng, n, np.array([0.5, 0.25, 0.1, 0.1, 0.05]))

    sel = np.flatnonzero(needed)
    m = len(sel)
    cust, known, key = cust[sel], known[sel], stranger_key[sel]
    customer_id = pc.if_else(
        _mask(has_id[sel]), pop.customer_id.take(pa.array(np.maximum(cust, 0))), NULL
    )
    typo_id = pc.binary_join_element_wise("C9", digits(typo[sel], 7), "")
    customer_id = pc.if_else(_mask(bogus[sel]), typo_id, customer_id)

    # Strings are built only for the contacts that carry them.
    give = give_email[sel]
    e = np.flatnonzero(give)
    crm_email = pc.take(pop.email, pa.array(np.maximum(cust[e], 0)))
    stranger = pc.binary_join_element_wise(
        "lead.",
        digits(key[e], 1),
        "@",
        pc.take(pa.array(cat.CONSUMER_DOMAINS), pa.array(key[e] % 5)),
        "",
    )
    # Unknown to the CRM, or a customer without an email in the CRM.
    email = pc.coalesce(pc.if_else(_mask(known[e]), crm_email, NULL), stranger)
    email = _scatter(m, give, _email_variants(email, email_variant[sel][e]))

    give = give_phone[sel]
    p = np.flatnonzero(give)
    crm_phone = pc.take(pop.phone, pa.array(np.maximum(cust[p], 0)))
    phone = pc.if_else(_mask(other_phone[sel][p]), NULL, crm_phone)
    phone = pc.coalesce(phone, e164(_UNKNOWN_PHONES + key[p]))
    phone = _scatter(m, give, _phone_variants(phone, phone_variant[sel][p]))

    placeholders = pc.take(pa.array(EMAIL_PLACEHOLDERS), pa.array(email_ph[sel]))
    email = pc.if_else(_mask(on_email[sel]), placeholders, email)
    placeholders = pc.take(pa.array(PHONE_PLACEHOLDERS), pa.array(phone_ph[sel]))
    phone = pc.if_else(_mask((placeholder & ~on_email)[sel]), placeholders, phone)
    return {"customer_id": customer_id, "customer_email": email, "customer_phone": phone}
