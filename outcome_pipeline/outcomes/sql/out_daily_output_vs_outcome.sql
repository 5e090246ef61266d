-- Handled legs with no agent count under the unassigned label, so the handled totals equal
-- daily_outputs' per day and team.
WITH handled AS (
    SELECT day, team, coalesce(agent_id, getvariable('unassigned')) AS agent_id,
        handled AS contacts_handled, handle_seconds_sum
    FROM leg_daily
    WHERE NOT by_queue AND handled > 0
),
-- Judged: identified contacts an agent handled whose window has closed. Claim-based counts
-- read only the judged contacts with a known claim (a disposition or a case); where none is
-- known they are NULL, never a confident zero.
claims AS (
    SELECT f.start_day AS day, f.agent_team AS team,
        coalesce(f.agent_id, getvariable('unassigned')) AS agent_id,
        count(*) FILTER (WHERE f.window_closed) AS judged,
        count(*) FILTER (WHERE f.window_closed AND f.claim_known) AS dispositioned,
        count(*) FILTER (WHERE f.window_closed AND f.claimed) AS claims,
        count(*) FILTER (WHERE f.window_closed AND f.claimed AND f.followed) AS false_claims,
        count(*) FILTER (WHERE f.really_resolved) AS really_resolved
    FROM contact_facts AS f
    JOIN days AS d ON d.day = f.start_day
    WHERE NOT f.is_anonymous AND f.handled
    GROUP BY ALL
),
rows AS (
    SELECT day, team, agent_id FROM handled
    UNION
    SELECT day, team, agent_id FROM claims
),
m AS (
    SELECT
        r.day, r.team, r.agent_id,
        coalesce(h.contacts_handled, 0) AS contacts_handled,
        coalesce(h.handle_seconds_sum, 0) AS handle_seconds_sum,
        ratio(coalesce(h.handle_seconds_sum, 0), coalesce(h.contacts_handled, 0)) AS aht_seconds,
        coalesce(c.judged, 0) AS judged_contacts,
        nullif(c.dispositioned, 0) AS dispositioned_contacts,
        CASE WHEN c.dispositioned > 0 THEN c.claims END AS resolved_claims,
        ratio(c.claims, nullif(c.dispositioned, 0)) AS claimed_resolution_rate,
        CASE WHEN c.dispositioned > 0 THEN c.false_claims END AS false_resolutions,
        ratio(c.false_claims, CASE WHEN c.dispositioned > 0 THEN c.claims END)
            AS false_resolution_rate,
        coalesce(c.really_resolved, 0) AS really_resolved_contacts,
        ratio(coalesce(c.really_resolved, 0), coalesce(c.judged, 0)) AS real_resolution_rate
    FROM rows AS r
    LEFT JOIN handled AS h USING (day, team, agent_id)
    LEFT JOIN claims AS c USING (day, team, agent_id)
)
SELECT
    m.day AS partition_date,
    m.team,
    m.agent_id,
    m.contacts_handled,
    m.handle_seconds_sum,
    m.aht_seconds,
    m.judged_contacts,
    m.dispositioned_contacts,
    m.resolved_claims,
    m.claimed_resolution_rate,
    m.false_resolutions,
    m.false_resolution_rate,
    m.really_resolved_contacts,
    m.real_resolution_rate,
    m.claimed_resolution_rate - m.real_resolution_rate AS resolution_gap,
    CASE WHEN m.aht_seconds IS NOT NULL THEN
        rank() OVER (PARTITION BY m.day, m.aht_seconds IS NULL ORDER BY m.aht_seconds)
    END AS aht_rank,
    CASE WHEN m.real_resolution_rate IS NOT NULL THEN
        rank() OVER (
            PARTITION BY m.day, m.real_resolution_rate IS NULL
            ORDER BY m.real_resolution_rate DESC
        )
    END AS real_resolution_rank,
    getvariable('as_of_us') >= t.day_end_us + getvariable('w_us') AS is_final,
    us_to_ts(getvariable('as_of_us')) AS as_of
FROM m
JOIN days AS t USING (day)
ORDER BY partition_date, team, agent_id
