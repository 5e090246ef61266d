SELECT
    j.partition_date,
    f.journey_id,
    f.contact_id,
    row_number() OVER (PARTITION BY f.journey_id ORDER BY f.started_us, f.contact_id) AS contact_seq,
    f.customer_key,
    f.match_rule,
    f.channel,
    f.direction,
    f.queue,
    f.team,
    f.agent_id,
    f.agent_team,
    f.legs,
    us_to_ts(f.started_us) AS started_at,
    us_to_ts(f.ended_us) AS ended_at,
    f.abandoned,
    f.disposition,
    f.case_id,
    f.is_repeat,
    f.followed AS followed_within_window,
    f.case_closed AS case_closed_in_window,
    f.really_resolved,
    j.is_ended AS is_final,
    us_to_ts(getvariable('as_of_us')) AS as_of
FROM contact_facts AS f
JOIN journeys_out AS j USING (journey_id)
ORDER BY j.partition_date, f.journey_id, contact_seq
