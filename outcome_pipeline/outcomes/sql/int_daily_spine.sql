-- Grain: one row per computed day x channel x (queue, team) pair of the day x segment.
-- The spine depends only on the day's own legs and the fixed lists, so computing a range
-- of days gives the same rows as computing each day alone.
CREATE OR REPLACE TEMP TABLE int_daily_spine AS
WITH queue_team_pairs AS (
    SELECT DISTINCT day, queue, team FROM int_leg_daily WHERE is_queue_grain
    UNION
    SELECT day, getvariable('unassigned'), getvariable('unassigned') FROM days
)
SELECT queue_team.day, dim_channels.channel, queue_team.queue, queue_team.team,
    dim_segments.segment
FROM queue_team_pairs AS queue_team
CROSS JOIN dim_channels
CROSS JOIN dim_segments;
