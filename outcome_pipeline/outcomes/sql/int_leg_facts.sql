-- Grain: one row per leg queued on a computed day (outputs), with what the daily tables read of it.
-- The legs of the computed days (outputs), with what the daily tables read of each. A view:
-- the legs are read once, by int_leg_daily below. A materialised copy of every leg (~1M rows a
-- day) was the session's largest table and failed under a tight memory cap (DuckDB cannot
-- spill a table while it is being created).
CREATE OR REPLACE TEMP VIEW int_leg_facts AS
SELECT
    computed_day.day,
    leg.channel,
    leg.direction,
    leg.agent_id,
    leg.abandoned,
    leg.queued_us,
    leg.answered_us,
    leg.first_response_us,
    leg.ended_us,
    coalesce(leg.queue, getvariable('unassigned')) AS queue_or_unassigned,
    coalesce(leg.team, getvariable('unassigned')) AS team_or_unassigned,
    coalesce(contact.segment, 'unknown') AS segment,
    NOT leg.abandoned AND leg.answered_us IS NOT NULL AS is_handled,
    coalesce(leg.talk_seconds, 0) + coalesce(leg.hold_seconds, 0) + coalesce(leg.acw_seconds, 0)
        AS handle_seconds,
    leg.channel IN (SELECT channel FROM sync_channels) AS is_sync,
    leg.interaction_id IN (SELECT parent_id FROM int_leg_links) AS is_transferred
FROM int_zone_legs AS leg  -- from scope_start on: int_legs adds the margin's chains
JOIN days AS computed_day ON local_day(leg.queued_us) = computed_day.day
LEFT JOIN int_leg_roots AS leg_root ON leg_root.leg_id = leg.interaction_id
LEFT JOIN int_contact_facts AS contact
    ON contact.contact_id = coalesce(leg_root.root_id, leg.interaction_id)
WHERE leg.queued_us >= getvariable('scope_start_us');
