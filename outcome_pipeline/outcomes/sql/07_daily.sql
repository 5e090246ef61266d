-- Legs of the computed days (outputs), the day x dimension spine, and day maturity.

CREATE OR REPLACE TEMP TABLE leg_facts AS
SELECT
    d.day,
    l.*,
    coalesce(l.queue, 'unassigned') AS queue_d,
    coalesce(l.team, 'unassigned') AS team_d,
    coalesce(f.segment, 'unknown') AS segment,
    NOT l.abandoned AND l.answered_us IS NOT NULL AS handled,
    coalesce(l.talk_seconds, 0) + coalesce(l.hold_seconds, 0) + coalesce(l.acw_seconds, 0)
        AS handle_seconds,
    l.channel IN (SELECT channel FROM sync_channels) AS is_sync,
    l.interaction_id IN (SELECT parent_id FROM leg_links) AS transferred
FROM zone_legs_latest AS l  -- from scope_start on, where `legs` is every leg (02_legs)
JOIN days AS d ON local_day(l.queued_us) = d.day
LEFT JOIN leg_roots AS r ON r.leg_id = l.interaction_id
LEFT JOIN contact_facts AS f ON f.contact_id = coalesce(r.root_id, l.interaction_id)
WHERE l.queued_us >= getvariable('scope_start_us');

-- The spine depends only on the day's own legs and the fixed lists, so computing a range
-- of days gives the same rows as computing each day alone.
CREATE OR REPLACE TEMP TABLE spine AS
WITH pairs AS (
    SELECT DISTINCT day, queue_d AS queue, team_d AS team FROM leg_facts
    UNION
    SELECT day, 'unassigned', 'unassigned' FROM days
)
SELECT p.day, c.channel, p.queue, p.team, s.segment
FROM pairs AS p
CROSS JOIN dim_channels AS c
CROSS JOIN dim_segments AS s;

-- A day is final once every contact's window and every journey started that day has closed.
CREATE OR REPLACE TEMP TABLE day_status AS
SELECT
    d.day,
    getvariable('as_of_us') >= d.day_end_us AS day_over,
    getvariable('as_of_us') >= d.day_end_us + getvariable('w_us')
        AND coalesce(max(j.closes_us), 0) <= getvariable('as_of_us') AS is_final,
    coalesce(max(j.last_ended_us), d.day_end_us) AS last_end_us
FROM days AS d
LEFT JOIN journeys_out AS j ON j.partition_date = d.day
GROUP BY d.day, d.day_end_us;
