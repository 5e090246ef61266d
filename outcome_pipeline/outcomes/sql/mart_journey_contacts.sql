-- Grain: one row per contact of a journey started on a computed day.
SELECT
    journey.partition_date,
    contact.journey_id,
    contact.contact_id,
    row_number() OVER (
        PARTITION BY contact.journey_id ORDER BY contact.started_us, contact.contact_id
    ) AS contact_seq,
    contact.customer_key,
    contact.match_rule,
    contact.channel,
    contact.direction,
    contact.queue,
    contact.team,
    contact.agent_id,
    contact.agent_team,
    contact.legs,
    us_to_ts(contact.started_us) AS started_at,
    us_to_ts(contact.ended_us) AS ended_at,
    contact.is_abandoned,
    contact.disposition,
    contact.case_id,
    contact.is_repeat,
    contact.is_followed_within_window,
    contact.is_case_closed_in_window,
    contact.is_really_resolved,
    journey.is_ended AS is_final,
    us_to_ts(getvariable('as_of_us')) AS as_of
FROM int_contact_facts AS contact
JOIN int_journeys AS journey USING (journey_id)
ORDER BY journey.partition_date, contact.journey_id, contact_seq
