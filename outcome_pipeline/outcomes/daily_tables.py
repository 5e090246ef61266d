"""Definitions of the daily tables: ``daily_outcomes``, ``daily_outputs``,
``daily_agent_output_vs_outcome``. The comments are the metric definitions (data dictionary and
column comments); terms are explained in :mod:`outcome_pipeline.outcomes.columns`.

Every daily table sits on a spine: each business day x contract channel x (queue, team)
pair seen among that day's legs (plus 'unassigned'/'unassigned') x contract segment (plus
'unknown'), so a channel with no contacts still has rows, with 0 counts and NULL rates.
"""

from __future__ import annotations

from outcome_pipeline.outcomes.columns import (
    BOOL,
    DIMS_NOTE,
    F64,
    STR,
    W,
    as_of,
    col,
    count,
    dims,
    partition,
    rate,
)
from outcome_pipeline.warehouse.tables import ColumnDef, TableDef

_J = "identified journeys started this day in this cell"
_JE = "ended " + _J  # the denominator of journey outcomes
_C = "identified contacts started this day in this cell"
_CHURN = (
    "ended journeys with a churn event after the first contact and within {n} days after the "
    "last contact ended"
)


def _churn_columns(n: int) -> tuple[ColumnDef, ...]:
    return (
        count(f"churned_{n}d", _CHURN.format(n=n) + "."),
        count(f"churned_{n}d_voluntary", f"Of churned_{n}d, churn_type voluntary."),
        count(f"churned_{n}d_involuntary", f"Of churned_{n}d, churn_type involuntary."),
        rate(
            f"churn_{n}d_rate", f"churned_{n}d", "journeys_ended", "METRICS 'churn after contact'."
        ),
    )


DAILY_OUTCOMES = TableDef(
    name="daily_outcomes",
    comment=(
        "What customers got, one row per business day x channel x queue x team x customer "
        "segment (full spine). Journey metrics count identified journeys by the day of their "
        "first contact and that contact's channel/queue/team: the journey is the unit of "
        "outcome and its entry point is where it was routed and first handled, so a journey "
        "counts once and its row set is fixed once its day has passed. Contact metrics "
        "(contacts, repeat, false resolution, anonymous) count contacts by their own start day "
        f"and first-leg channel/queue/team. Outcome rates divide by ended journeys (or by "
        f"contacts whose {W} has closed), so provisional rows are not diluted by journeys "
        f"whose outcome is unknown; is_final says when nothing can change. {DIMS_NOTE}"
    ),
    columns=(
        partition("journey metrics: the journeys' first-contact day; contact metrics: contact day"),
        *dims(
            "of the journey's first contact (contact metrics: of the contact)", "of its first leg"
        ),
        count("journeys_started", f"Journeys: {_J}."),
        count("journeys_ended", f"Of journeys_started, ended (window closed at as_of): {_JE}."),
        count("contacts_in_ended_journeys", f"Contacts in the {_JE}."),
        count("resolved_journeys", f"Resolved journeys (journeys.is_resolved) among the {_JE}."),
        rate("resolution_rate", "resolved_journeys", "journeys_ended"),
        count("failed_journeys", "journeys_ended - resolved_journeys: ended without resolution."),
        count(
            "fcr_journeys",
            "Resolved journeys with exactly one contact (a follow-up in any channel fails it).",
        ),
        rate(
            "fcr_rate",
            "fcr_journeys",
            "journeys_ended",
            "First-contact resolution. Where the feeds carry no claims (no dispositions, no "
            "cases) this is operational FCR: handled by an agent and no repeat within W.",
        ),
        count("multichannel_journeys", "Ended journeys that used more than one channel."),
        rate("channel_switch_rate", "multichannel_journeys", "journeys_ended"),
        count("contacts_in_resolved_journeys", "Contacts in the resolved journeys."),
        rate("contacts_per_resolution", "contacts_in_resolved_journeys", "resolved_journeys"),
        col(
            "contacts_per_resolution_p90",
            F64,
            "90th percentile (nearest rank) of contacts per resolved journey.",
        ),
        col(
            "time_to_resolution_median_hours",
            F64,
            "Median over resolved journeys of first contact start -> last contact end "
            "(hours, interpolated).",
        ),
        col(
            "time_to_resolution_p90_hours",
            F64,
            "90th percentile (interpolated) of the same durations.",
        ),
        count(
            "effortless_resolutions",
            "Resolved journeys with one contact whose latest linked CES is missing or >= 5.",
        ),
        rate("effortless_resolution_rate", "effortless_resolutions", "journeys_ended"),
        rate(
            "customer_success_ratio",
            "resolved_journeys",
            "contacts_in_ended_journeys",
            "Successful outcomes per experience (Sweezey/Mangia).",
        ),
        count(
            "csat_responses",
            "CSAT responses linked (see journeys.survey_responses) to the journeys_started.",
        ),
        count("csat_satisfied", "Of csat_responses, scoring 4-5."),
        rate("csat_rate", "csat_satisfied", "csat_responses", "CSAT top-2-box."),
        count("csat_score_sum", "Sum of the CSAT scores (for means over any roll-up)."),
        rate("csat_mean", "csat_score_sum", "csat_responses"),
        count("nps_responses", "NPS responses linked to the journeys_started."),
        count("nps_promoters", "Of nps_responses, scoring 9-10."),
        count("nps_detractors", "Of nps_responses, scoring 0-6."),
        col(
            "nps",
            F64,
            "100 * (nps_promoters - nps_detractors) / nps_responses, -100..100; "
            "NULL without responses.",
        ),
        count("ces_responses", "CES responses linked to the journeys_started."),
        count("ces_easy", "Of ces_responses, scoring 5-7."),
        rate("ces_easy_rate", "ces_easy", "ces_responses"),
        count("ces_score_sum", "Sum of the CES scores."),
        rate("ces_mean", "ces_score_sum", "ces_responses", "CES (1-7)."),
        *_churn_columns(30),
        *_churn_columns(90),
        count("churned_90d_after_failed", "Of failed_journeys, churned within 90 days."),
        rate("churn_90d_rate_after_failed", "churned_90d_after_failed", "failed_journeys"),
        col(
            "mrr_at_stake",
            F64,
            "Sum of journeys.mrr_at_stake over the ended journeys (CRM customers).",
        ),
        col("revenue_at_risk", F64, "Sum of mrr_at_stake over failed journeys."),
        col(
            "revenue_kept",
            F64,
            "Sum of mrr_at_stake over resolved journeys not churned within 90 days "
            "(final when is_churn_90d_final).",
        ),
        count("contacts", f"Contacts: {_C}."),
        count(
            "repeat_contacts",
            "Of contacts, those with a previous contact of the same customer starting within "
            f"{W} before.",
        ),
        rate("repeat_contact_rate", "repeat_contacts", "contacts"),
        count(
            "anonymous_contacts",
            "Contacts started this day in this cell with no usable identifier (in no outcome).",
        ),
        count(
            "resolved_claims",
            f"{_C} dispositioned resolved whose {W} has closed. Claim-based: NULL when no "
            "such contact of the row carries a claim (a disposition or a case).",
        ),
        count(
            "false_resolutions",
            "Of resolved_claims, followed by another contact of the customer within W.",
        ),
        rate("false_resolution_rate", "false_resolutions", "resolved_claims"),
        col(
            "is_final",
            BOOL,
            "as_of >= end of the day + W and every journey started that day has ended; at the "
            "latest at the end of the day + H + W (the journey horizon bounds every journey).",
        ),
        col(
            "is_churn_30d_final",
            BOOL,
            "is_final and as_of >= every such journey's last contact end + 30 days.",
        ),
        col(
            "is_churn_90d_final",
            BOOL,
            "is_final and as_of >= every such journey's last contact end + 90 days.",
        ),
        as_of(),
    ),
    order_by=("channel", "queue", "team", "segment"),
)

_SYNC = "inbound legs on live channels (phone, chat, web)"

DAILY_OUTPUTS = TableDef(
    name="daily_outputs",
    comment=(
        "What the operation produced, one row per business day x channel x queue x team x "
        "customer segment (same spine as daily_outcomes). Counts interaction legs by the day "
        "of their queued_at and their own queue/team, as a queue report does (a transfer is a "
        f"new leg offered to the target queue). {DIMS_NOTE}"
    ),
    columns=(
        partition("the day the legs were queued"),
        *dims("of the leg", "of the leg"),
        count("legs_offered", "Inbound legs that entered a queue."),
        count("legs_handled", "Legs answered by an agent (inbound and outbound)."),
        count("legs_abandoned", "Inbound legs ended by the customer before an agent answered."),
        rate("abandon_rate", "legs_abandoned", "legs_offered"),
        count(
            "sl_threshold_seconds", "X of the service level (OutcomeConfig.service_level_seconds)."
        ),
        count(
            "sl_legs_answered_within_threshold",
            f"Of the {_SYNC}, answered within X seconds of queued_at.",
        ),
        count(
            "sl_legs_offered_excl_short_abandons",
            f"The {_SYNC}, excluding those abandoned within 5 seconds.",
        ),
        rate(
            "service_level_answered_excl_short_abandons",
            "sl_legs_answered_within_threshold",
            "sl_legs_offered_excl_short_abandons",
            "Variant: answered within X s / offered excluding abandons < 5 s (Genesys/D365 style).",
        ),
        count("asa_legs_answered", f"Answered {_SYNC}."),
        col("asa_wait_seconds_sum", F64, "Sum over them of queued_at -> answered_at, seconds."),
        rate(
            "asa_seconds", "asa_wait_seconds_sum", "asa_legs_answered", "Average speed of answer."
        ),
        count(
            "handle_seconds_sum",
            "Sum over handled legs of talk + hold + after-contact work seconds.",
        ),
        rate("aht_seconds", "handle_seconds_sum", "legs_handled", "Average handle time."),
        count(
            "legs_transferred",
            "Handled legs transferred on to another leg (a 3-leg chain counts 2).",
        ),
        rate("transfer_rate", "legs_transferred", "legs_handled"),
        count(
            "frt_legs_responded", "Inbound legs on email/social/messaging with a first agent reply."
        ),
        col("frt_seconds_sum", F64, "Sum over them of queued_at -> first_response_at, seconds."),
        rate("frt_mean_seconds", "frt_seconds_sum", "frt_legs_responded", "First response time."),
        col(
            "frt_median_seconds",
            F64,
            "Median first response time (interpolated); NULL without responses.",
        ),
        col("is_final", BOOL, "as_of >= the end of the day (outputs need no repeat window)."),
        as_of(),
    ),
    order_by=("channel", "queue", "team", "segment"),
)

DAILY_AGENT_OUTPUT_VS_OUTCOME = TableDef(
    name="daily_agent_output_vs_outcome",
    comment=(
        "Outputs and outcomes side by side, one row per business day x team x agent: what the "
        "agent produced (handled legs, AHT) next to what the agent claimed (dispositions) and "
        "what the customer got (no repeat within W). Handled legs count on their queued day "
        "under the leg's team; dispositions count on the contact's start day under the final "
        "leg's agent and team. Rows: every (team, agent) with a handled leg or a disposition "
        "that day; legs and contacts with no agent count under agent 'unassigned', so the "
        "handled totals equal daily_outputs' per day and team. Identified contacts only for "
        "outcomes."
    ),
    columns=(
        partition("legs' queued day / contacts' start day"),
        col("team", STR, "Team of the agent on the leg; 'unassigned' when missing."),
        col("agent_id", STR, "Agent of the leg (outputs) or of the final leg (dispositions)."),
        count("legs_handled", "Legs the agent answered that day (legs, not contacts)."),
        count("handle_seconds_sum", "Talk + hold + after-contact work over those legs, seconds."),
        rate("aht_seconds", "handle_seconds_sum", "legs_handled", "AHT."),
        count(
            "judged_contacts",
            "Identified contacts an agent handled (answered or replied; the final leg's agent, "
            f"'unassigned' when none) whose {W} has closed.",
        ),
        count(
            "dispositioned_contacts",
            "Of judged_contacts, those with a known claim (a disposition or a case); NULL "
            "when none is known (claim-based figures count only known claims).",
        ),
        count(
            "resolved_claims",
            "Of dispositioned_contacts, dispositioned resolved; NULL when no claim is known.",
        ),
        rate("claimed_resolution_rate", "resolved_claims", "dispositioned_contacts"),
        count(
            "false_resolutions",
            "Of resolved_claims, followed by another contact of the customer within W.",
        ),
        rate("false_resolution_rate", "false_resolutions", "resolved_claims"),
        count(
            "really_resolved_contacts",
            "Of judged_contacts, those the customer did not follow with another "
            "contact within W (journey_contacts.is_really_resolved): judged by the customer, "
            "not the claim.",
        ),
        rate(
            "real_resolution_rate",
            "really_resolved_contacts",
            "judged_contacts",
            "Contact-level real resolution.",
        ),
        col(
            "resolution_gap",
            F64,
            "claimed_resolution_rate - real_resolution_rate: what the claims overstate; NULL "
            "when no claim is known.",
        ),
        count(
            "aht_rank",
            "Rank of aht_seconds among the day's agents, 1 = shortest; NULL without AHT.",
        ),
        count(
            "real_resolution_rank",
            "Rank of real_resolution_rate among the day's agents, 1 = highest; NULL without it.",
        ),
        col("is_final", BOOL, "as_of >= end of the day + W (every contact's window has closed)."),
        as_of(),
    ),
    order_by=("team", "agent_id"),
)
