-- Grain: one row per contact: a root leg plus its transfer legs, with its customer key.
-- A contact is placed in time by its first leg (started_us) and takes channel/queue/team
-- from it; its final leg says who dispositioned it and what they claimed. Identifiers: the
-- root leg's; a transfer leg's only where the root carries none of that kind. Missing
-- queue/team/agent take the unassigned label (getvariable('unassigned')).
CREATE OR REPLACE TEMP TABLE int_contacts AS
WITH transfer_legs AS (
    SELECT
        leg_root.root_id AS contact_id,
        count(*) AS legs,
        max(leg.ended_us) AS ended_us,
        bool_and(leg.abandoned) AS is_abandoned,
        bool_or(NOT leg.abandoned AND coalesce(leg.answered_us, leg.first_response_us) IS NOT NULL)
            AS is_handled,
        arg_max(leg.agent_id, leg.queued_us) AS agent_id,
        arg_max(leg.team, leg.queued_us) AS team,
        arg_max(leg.disposition, leg.queued_us) AS disposition,
        arg_max(leg.case_id, leg.queued_us) FILTER (WHERE leg.case_id IS NOT NULL) AS case_id,
        arg_min(leg.customer_id, leg.queued_us) FILTER (WHERE NOT is_placeholder(leg.customer_id)) AS cid,
        arg_min(leg.customer_email, leg.queued_us) FILTER (WHERE NOT is_placeholder(leg.customer_email)) AS email,
        arg_min(leg.customer_phone, leg.queued_us) FILTER (WHERE NOT is_placeholder(leg.customer_phone)) AS phone
    FROM int_leg_roots AS leg_root
    JOIN int_legs AS leg ON leg.interaction_id = leg_root.leg_id
    GROUP BY leg_root.root_id
),
roots AS (
    SELECT root.*, transfers.contact_id IS NOT NULL AS has_transfers,
        transfers.legs AS transfers_legs, transfers.ended_us AS transfers_ended_us,
        transfers.is_abandoned AS transfers_is_abandoned, transfers.is_handled AS transfers_is_handled,
        transfers.agent_id AS transfers_agent_id, transfers.team AS transfers_team,
        transfers.disposition AS transfers_disposition, transfers.case_id AS transfers_case_id,
        transfers.cid AS transfers_cid, transfers.email AS transfers_email, transfers.phone AS transfers_phone
    FROM int_legs AS root
    LEFT JOIN transfer_legs AS transfers ON transfers.contact_id = root.interaction_id
    WHERE root.interaction_id NOT IN (SELECT leg_id FROM int_leg_roots)
),
unresolved_contacts AS (
    SELECT
        interaction_id AS contact_id,
        1 + coalesce(transfers_legs, 0) AS legs,
        queued_us AS started_us,
        greatest(ended_us, transfers_ended_us) AS ended_us,
        abandoned AND coalesce(transfers_is_abandoned, true) AS is_abandoned,
        -- Handled by an agent: some leg answered (or, in an asynchronous channel, replied to)
        -- and not abandoned. A leg that ended unanswered and unabandoned was not handled.
        (NOT abandoned AND coalesce(answered_us, first_response_us) IS NOT NULL)
            OR coalesce(transfers_is_handled, false) AS is_handled,
        channel,
        direction,
        coalesce(queue, getvariable('unassigned')) AS queue,
        coalesce(team, getvariable('unassigned')) AS team,
        CASE WHEN has_transfers THEN transfers_agent_id ELSE agent_id END AS agent_id,
        coalesce(CASE WHEN has_transfers THEN transfers_team ELSE team END, getvariable('unassigned')) AS agent_team,
        CASE WHEN has_transfers THEN transfers_disposition ELSE disposition END AS disposition,
        coalesce(transfers_case_id, case_id) AS case_id,
        CASE WHEN has_transfers AND is_placeholder(customer_id) THEN transfers_cid ELSE customer_id END AS cid,
        CASE WHEN has_transfers AND is_placeholder(customer_email) THEN transfers_email ELSE customer_email END AS email,
        CASE WHEN has_transfers AND is_placeholder(customer_phone) THEN transfers_phone ELSE customer_phone END AS phone
    FROM roots
)
SELECT * EXCLUDE (cid, email, phone) FROM resolve_identity('unresolved_contacts');
