"""Definitions of the journey-grain tables: ``journeys``, ``journey_contacts``,
``customer_outcomes``. The comments are the metric definitions (data dictionary, column
comments); terms are explained in :mod:`outcome_pipeline.outcomes.columns`."""

from __future__ import annotations

from outcome_pipeline.contracts.feeds import TS
from outcome_pipeline.outcomes.columns import (
    BOOL,
    F64,
    I64,
    STR,
    W,
    as_of,
    col,
    count,
    partition,
    rate,
)
from outcome_pipeline.warehouse.tables import TableDef

_JOURNEY_DAY = "business day of the journey's first contact (journeys span partitions)"
_KEY = (
    "Customer key: the CRM customer_id, else 'pk_' + 32 hex digits of HMAC-SHA256 (key "
    "OUTCOME_PSEUDONYM_KEY) of the normalised email or phone; never a raw email or phone."
)
_CHURN_WINDOW = (
    "a subscription 'churn' event after the journey's first contact and within {n} days after "
    "its last contact ended (events known at as_of); NULL while the journey is open or anonymous"
)

JOURNEYS = TableDef(
    name="journeys",
    comment=(
        "Customer journeys, one row per journey, partitioned by the business day of its first "
        f"contact. A journey is a customer's contacts chained while each starts within {W} "
        "of the previous one, across channels; a contact starts a journey iff the customer "
        "had no contact in the W before it. It ends when W passes after its last contact. "
        "Its outcome is evaluated over its contacts that start within H (the journey horizon, "
        "max_journey_days, default 30 days) of its first contact ('in span'); later contacts "
        "stay repeats at contact level and belong to no journey row. "
        "An anonymous contact is a one-contact journey (is_anonymous) with no outcome."
    ),
    columns=(
        partition(_JOURNEY_DAY),
        col("journey_id", STR, "Id of the journey: the contact_id of its first contact."),
        col("customer_key", STR, _KEY + " NULL for anonymous journeys."),
        col("is_anonymous", BOOL, "The contact carried no usable identifier (one-contact)."),
        col("segment", STR, "CRM segment at the first contact; 'unknown' if not a CRM customer."),
        col("first_channel", STR, "Channel of the first contact (the journey's attribution)."),
        col("first_queue", STR, "Queue of the first contact's first leg."),
        col("first_team", STR, "Team of the first contact's first leg."),
        col("first_contact_at", TS, "Start of the first contact (first leg queued_at)."),
        col("last_contact_at", TS, "Start of the last in-span contact known at as_of."),
        col("last_contact_ended_at", TS, "Latest end of any of the journey's in-span contacts."),
        col("window_closes_at", TS, "last_contact_at + W: the journey has ended once as_of >= it."),
        count("contacts", "In-span contacts of the journey (transfer legs collapsed)."),
        count("channels", "Distinct channels used."),
        count("channel_switches", "Contacts whose channel differs from the previous contact's."),
        col("last_disposition", STR, "What the agent claimed on the last contact's final leg."),
        col(
            "is_last_case_closed",
            BOOL,
            "The last contact's case reached solved/closed with closed_at within W of the "
            "contact's start (case versions known at as_of).",
        ),
        count(
            "false_resolution_claims",
            "Contacts dispositioned resolved that the customer followed with another contact "
            "within W (the gap between claim and outcome).",
        ),
        col(
            "is_ended",
            BOOL,
            "window_closes_at <= as_of: no contact can join the journey any more and its "
            "outcome can no longer change (at the latest by first contact + H + W). It is the "
            "journey's finality flag: journeys has no separate is_final.",
        ),
        col(
            "is_capped",
            BOOL,
            "The last in-span contact was followed within W by a contact after H (still "
            "contacting after the journey horizon): the journey is not resolved.",
        ),
        col(
            "is_resolved",
            BOOL,
            "Ended, not capped, the last contact handled by an agent (answered or replied) and "
            "its claim resolved (dispositioned resolved or its case closed within W) or unknown "
            "(no disposition and no case: the feed carries no claim, which is never counted as "
            "a failure). METRICS 'resolved journey'; NULL while open or anonymous.",
        ),
        col(
            "resolution_basis",
            STR,
            "Evidence of a resolved journey: 'claimed_and_confirmed' (the last contact's claim "
            "said resolved and no contact followed within W) or 'confirmed_only' (no claim "
            "known; no contact followed within W). NULL unless resolved.",
        ),
        col(
            "is_first_contact_resolved",
            BOOL,
            "is_resolved and exactly one contact (cross-channel FCR).",
        ),
        col(
            "time_to_resolution_hours",
            F64,
            "Resolved journeys: first contact start -> last contact end, in hours.",
        ),
        count(
            "survey_responses",
            "Responses linked to the journey: by interaction_id (any leg), else by case_id (the "
            "latest journey with that case started before the survey was sent), else by "
            "customer if sent between the first contact and the last contact's end + "
            "survey_grace_days (3); responded by window_closes_at.",
        ),
        col("csat_score", I64, "Latest linked CSAT score (1-5)."),
        col("nps_score", I64, "Latest linked NPS score (0-10)."),
        col("ces_score", I64, "Latest linked CES score (1-7, higher = easier)."),
        col(
            "mrr_at_stake",
            F64,
            "Customer MRR from the CRM version valid at the first contact; NULL if not a CRM "
            "customer.",
        ),
        col(
            "is_churned_within_30d",
            BOOL,
            "Churned: "
            + _CHURN_WINDOW.format(n="30 (the short churn window, OUTCOME_CHURN_SHORT_DAYS)")
            + ".",
        ),
        col(
            "is_churned_within_90d",
            BOOL,
            "Churned: "
            + _CHURN_WINDOW.format(n="90 (the long churn window, OUTCOME_CHURN_LONG_DAYS)")
            + ".",
        ),
        col("churn_type", STR, "voluntary/involuntary of that first churn event (within 90 days)."),
        col("churned_at", TS, "When that churn event occurred."),
        col("is_churn_30d_final", BOOL, "Ended and as_of >= last contact end + 30 days."),
        col("is_churn_90d_final", BOOL, "Ended and as_of >= last contact end + 90 days."),
        as_of(),
    ),
    order_by=("journey_id",),
)

JOURNEY_CONTACTS = TableDef(
    name="journey_contacts",
    comment=(
        "Contacts of each journey, one row per contact (transfer legs collapsed), partitioned "
        "like their journey (business day of the journey's first contact)."
    ),
    columns=(
        partition(_JOURNEY_DAY),
        col("journey_id", STR, "The journey (contact_id of its first contact)."),
        col("contact_id", STR, "Id of the contact: interaction_id of its first (root) leg."),
        count("contact_seq", "Position of the contact in its journey, from 1."),
        col("customer_key", STR, _KEY),
        col(
            "match_rule",
            STR,
            "How the key was found: crm_id (known CRM id), crm_email / crm_phone (normalised "
            "identifier of exactly one CRM customer), hashed_email / hashed_phone, "
            "unverified_id (an id the CRM does not know), anonymous.",
        ),
        col("channel", STR, "Channel of the first leg."),
        col("direction", STR, "inbound / outbound, of the first leg."),
        col("queue", STR, "Queue of the first leg."),
        col("team", STR, "Team of the first leg."),
        col("agent_id", STR, "Agent of the final leg (who dispositioned the contact)."),
        col("agent_team", STR, "Team of the final leg's agent."),
        count("legs", "Legs of the contact (1 + transfers)."),
        col("started_at", TS, "First leg queued_at."),
        col("ended_at", TS, "Latest leg ended_at."),
        col("is_abandoned", BOOL, "Every leg was abandoned (no agent ever answered)."),
        col("disposition", STR, "Final leg's disposition: what the agent claimed."),
        col("case_id", STR, "CRM case of the latest leg that named one."),
        col("is_repeat", BOOL, "The customer had another contact starting within W before it."),
        col(
            "is_followed_within_window",
            BOOL,
            "The customer's next contact started within W after it.",
        ),
        col(
            "is_case_closed_in_window",
            BOOL,
            "Its case reached solved/closed with closed_at between the contact's start and W "
            "later.",
        ),
        col(
            "is_really_resolved",
            BOOL,
            "Contact-level real resolution (operational FCR, QueueMetrics/Capturi): handled by "
            "an agent (answered or replied) and the customer did not contact again within W, "
            "whatever the agent claimed. FALSE once a follow-up is known or if never answered "
            "(abandoned, or ended unanswered); NULL while the window is open or anonymous.",
        ),
        col("is_final", BOOL, "The journey has ended (journeys.is_ended)."),
        as_of(),
    ),
    order_by=("journey_id", "contact_seq"),
)

CUSTOMER_OUTCOMES = TableDef(
    name="customer_outcomes",
    comment=(
        "Customer outcomes, one row per identified customer key and business day on which the "
        "customer started a journey (journeys of anonymous contacts excluded). With W >= 1 day "
        "a customer starts at most one journey a day, so a lifetime view is a GROUP BY "
        "customer_key over partitions (LIFETIME_VIEW_SQL)."
    ),
    columns=(
        partition("business day the customer's journeys started"),
        col("customer_key", STR, _KEY),
        col("segment", STR, "CRM segment at the day's first journey start; 'unknown' if none."),
        count("journeys_started", "Journeys the customer started that day."),
        count("journeys_ended", "Of those, ended (window closed)."),
        count("resolved_journeys", "Of those, resolved (see journeys.is_resolved)."),
        rate("resolved_share", "resolved_journeys", "journeys_ended"),
        count("contacts", "Contacts in the day's journeys."),
        col(
            "last_outcome",
            STR,
            "Outcome of the customer's latest journey that day: resolved, unresolved (ended, "
            "not resolved) or open.",
        ),
        col(
            "mrr_at_stake", F64, "MRR at the first journey start (CRM); NULL if not a CRM customer."
        ),
        col("is_churned_within_30d", BOOL, "Any of the day's journeys churned within 30 days."),
        col("is_churned_within_90d", BOOL, "Any of the day's journeys churned within 90 days."),
        col("churn_type", STR, "voluntary / involuntary of the first such churn."),
        col("signup_at", TS, "Customer's first 'signup' subscription event known at as_of."),
        col("activated_at", TS, "First 'activated' event at or after the signup."),
        col(
            "time_to_value_days",
            F64,
            "Days from signup_at to activated_at (METRICS 'time to value'); NULL if either is "
            "unknown.",
        ),
        col("is_final", BOOL, "Every journey of the row has ended."),
        col("is_churn_90d_final", BOOL, "is_final and as_of >= every last contact end + 90 days."),
        as_of(),
    ),
    order_by=("customer_key",),
)

# Portable SQL (DuckDB and PostgreSQL): aggregates as window functions, latest row per key.
LIFETIME_VIEW_SQL = """
SELECT customer_key, journeys, resolved_journeys,
       CAST(resolved_journeys AS DOUBLE PRECISION) / NULLIF(journeys_ended, 0) AS resolved_share,
       last_outcome, is_churned_within_90d_of_a_journey, time_to_value_days
FROM (
    SELECT customer_key, last_outcome,
           sum(journeys_started) OVER by_customer AS journeys,
           sum(resolved_journeys) OVER by_customer AS resolved_journeys,
           sum(journeys_ended) OVER by_customer AS journeys_ended,
           bool_or(is_churned_within_90d) OVER by_customer AS is_churned_within_90d_of_a_journey,
           max(time_to_value_days) OVER by_customer AS time_to_value_days,
           row_number() OVER (PARTITION BY customer_key ORDER BY partition_date DESC) AS rn
    FROM {schema}.customer_outcomes
    WINDOW by_customer AS (PARTITION BY customer_key)
) latest
WHERE rn = 1
""".strip()
