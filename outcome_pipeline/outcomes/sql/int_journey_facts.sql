-- Grain: one row per journey started from scope_start on, with its outcome.
-- Journeys started from scope_start on (every one that can be computed), with outcomes.
CREATE OR REPLACE TEMP TABLE int_journey_facts AS
WITH journey_contacts_agg AS (
    SELECT
        journey_id,
        any_value(customer_key) AS customer_key,
        bool_or(is_anonymous) AS is_anonymous,
        min(started_us) AS first_contact_us,
        max(started_us) AS last_contact_us,
        max(ended_us) AS last_contact_ended_us,
        count(*) AS contacts,
        count(DISTINCT channel) AS channels,
        count(*) FILTER (WHERE is_channel_switch) AS channel_switches,
        arg_max(disposition, (started_us, contact_id)) AS last_disposition,
        arg_max(is_case_closed_in_window, (started_us, contact_id)) AS is_last_case_closed,
        arg_max(is_claim_known, (started_us, contact_id)) AS is_last_claim_known,
        arg_max(is_handled, (started_us, contact_id)) AS is_last_handled,
        -- The last in-span contact was followed within W: by a contact after H.
        arg_max(coalesce(is_followed_within_window, false), (started_us, contact_id)) AS is_capped,
        count(*) FILTER (WHERE is_claimed_resolved AND is_followed_within_window)
            AS false_resolution_claims
    FROM int_contact_facts
    WHERE journey_started_us >= getvariable('scope_start_us')
    GROUP BY journey_id
),
with_first_contact AS (
    SELECT
        journey.*,
        first_contact.start_day AS partition_date,
        first_contact.segment, first_contact.mrr AS mrr_at_stake,
        first_contact.channel AS first_channel,
        first_contact.queue AS first_queue,
        first_contact.team AS first_team,
        journey.last_contact_us + getvariable('w_us') AS window_closes_us,
        journey.last_contact_us + getvariable('w_us') <= getvariable('as_of_us') AS is_ended
    FROM journey_contacts_agg AS journey
    JOIN int_contact_facts AS first_contact ON first_contact.contact_id = journey.journey_id
)
-- Resolved: ended, not capped, the last contact handled by an agent, and its claim resolved
-- (disposition resolved or case closed within W) or unknown (no disposition, no case).
-- resolution_basis says which evidence the verdict rests on.
, with_resolution AS (
    SELECT
        *,
        CASE WHEN is_ended AND NOT is_anonymous THEN
            NOT is_capped AND is_last_handled AND (
                NOT is_last_claim_known
                OR coalesce(last_disposition = 'resolved', false)
                OR is_last_case_closed
            )
        END AS is_resolved
    FROM with_first_contact
)
SELECT
    *,
    CASE WHEN is_resolved THEN
        CASE WHEN is_last_claim_known THEN 'claimed_and_confirmed' ELSE 'confirmed_only' END
    END AS resolution_basis
FROM with_resolution;
