-- Grain: one row per computed day x team x agent with handled legs or judged contacts.
-- Handled legs with no agent count under the unassigned label, so the handled totals equal
-- daily_outputs' per day and team.
WITH handled_legs AS (
    SELECT day, team, coalesce(agent_id, getvariable('unassigned')) AS agent_id,
        legs_handled, handle_seconds_sum
    FROM int_leg_daily
    WHERE NOT is_queue_grain AND legs_handled > 0
),
-- Judged: identified contacts an agent handled whose window has closed. Claim-based counts
-- read only the judged contacts with a known claim (a disposition or a case); where none is
-- known they are NULL, never a confident zero.
contact_claims AS (
    SELECT contact.start_day AS day, contact.agent_team AS team,
        coalesce(contact.agent_id, getvariable('unassigned')) AS agent_id,
        count(*) FILTER (WHERE contact.is_window_closed) AS judged_contacts,
        count(*) FILTER (WHERE contact.is_window_closed AND contact.is_claim_known)
            AS dispositioned_contacts,
        count(*) FILTER (WHERE contact.is_window_closed AND contact.is_claimed_resolved)
            AS resolved_claims,
        count(*) FILTER (
            WHERE contact.is_window_closed AND contact.is_claimed_resolved
                AND contact.is_followed_within_window
        ) AS false_resolutions,
        count(*) FILTER (WHERE contact.is_really_resolved) AS really_resolved_contacts
    FROM int_contact_facts AS contact
    JOIN days AS computed_day ON computed_day.day = contact.start_day
    WHERE NOT contact.is_anonymous AND contact.is_handled
    GROUP BY ALL
),
agent_days AS (
    SELECT day, team, agent_id FROM handled_legs
    UNION
    SELECT day, team, agent_id FROM contact_claims
),
agent_counts AS (
    SELECT
        agent_day.day, agent_day.team, agent_day.agent_id,
        coalesce(handled.legs_handled, 0) AS legs_handled,
        coalesce(handled.handle_seconds_sum, 0) AS handle_seconds_sum,
        coalesce(claims.judged_contacts, 0) AS judged_contacts,
        nullif(claims.dispositioned_contacts, 0) AS dispositioned_contacts,
        CASE WHEN claims.dispositioned_contacts > 0 THEN claims.resolved_claims END
            AS resolved_claims,
        CASE WHEN claims.dispositioned_contacts > 0 THEN claims.false_resolutions END
            AS false_resolutions,
        coalesce(claims.really_resolved_contacts, 0) AS really_resolved_contacts
    FROM agent_days AS agent_day
    LEFT JOIN handled_legs AS handled USING (day, team, agent_id)
    LEFT JOIN contact_claims AS claims USING (day, team, agent_id)
),
-- The rates: ratio(numerator, denominator) of the counts, generated from RATES.
agent_metrics AS (
    SELECT * FROM daily_agent_output_vs_outcome_with_rates('agent_counts')
)
SELECT
    agent_metrics.day AS partition_date,
    agent_metrics.team,
    agent_metrics.agent_id,
    agent_metrics.legs_handled,
    agent_metrics.handle_seconds_sum,
    agent_metrics.aht_seconds,
    agent_metrics.judged_contacts,
    agent_metrics.dispositioned_contacts,
    agent_metrics.resolved_claims,
    agent_metrics.claimed_resolution_rate,
    agent_metrics.false_resolutions,
    agent_metrics.false_resolution_rate,
    agent_metrics.really_resolved_contacts,
    agent_metrics.real_resolution_rate,
    agent_metrics.claimed_resolution_rate - agent_metrics.real_resolution_rate AS resolution_gap,
    CASE WHEN agent_metrics.aht_seconds IS NOT NULL THEN
        rank() OVER (
            PARTITION BY agent_metrics.day, agent_metrics.aht_seconds IS NULL
            ORDER BY agent_metrics.aht_seconds
        )
    END AS aht_rank,
    CASE WHEN agent_metrics.real_resolution_rate IS NOT NULL THEN
        rank() OVER (
            PARTITION BY agent_metrics.day, agent_metrics.real_resolution_rate IS NULL
            ORDER BY agent_metrics.real_resolution_rate DESC
        )
    END AS real_resolution_rank,
    getvariable('as_of_us') >= computed_day.day_end_us + getvariable('w_us') AS is_final,
    us_to_ts(getvariable('as_of_us')) AS as_of
FROM agent_metrics
JOIN days AS computed_day USING (day)
ORDER BY partition_date, team, agent_id
