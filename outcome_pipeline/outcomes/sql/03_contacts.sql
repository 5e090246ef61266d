-- Contacts: a root leg plus its transfer legs, with the customer key (resolve_identity).
-- A contact is placed in time by its first leg (started_us) and takes channel/queue/team
-- from it; its final leg says who dispositioned it and what they claimed. Identifiers: the
-- root leg's; a transfer leg's only where the root carries none of that kind. Missing
-- queue/team/agent take the unassigned label (getvariable('unassigned')).
CREATE OR REPLACE TEMP TABLE contacts AS
WITH children AS (
    SELECT
        r.root_id AS contact_id,
        count(*) AS legs,
        max(l.ended_us) AS ended_us,
        bool_and(l.abandoned) AS abandoned,
        bool_or(NOT l.abandoned AND coalesce(l.answered_us, l.first_response_us) IS NOT NULL)
            AS handled,
        arg_max(l.agent_id, l.queued_us) AS agent_id,
        arg_max(l.team, l.queued_us) AS team,
        arg_max(l.disposition, l.queued_us) AS disposition,
        arg_max(l.case_id, l.queued_us) FILTER (WHERE l.case_id IS NOT NULL) AS case_id,
        arg_min(l.customer_id, l.queued_us) FILTER (WHERE NOT is_placeholder(l.customer_id)) AS cid,
        arg_min(l.customer_email, l.queued_us) FILTER (WHERE NOT is_placeholder(l.customer_email)) AS email,
        arg_min(l.customer_phone, l.queued_us) FILTER (WHERE NOT is_placeholder(l.customer_phone)) AS phone
    FROM leg_roots AS r
    JOIN legs AS l ON l.interaction_id = r.leg_id
    GROUP BY r.root_id
),
roots AS (
    SELECT r.*, c.contact_id IS NOT NULL AS has_children,
        c.legs AS c_legs, c.ended_us AS c_ended_us, c.abandoned AS c_abandoned, c.handled AS c_handled,
        c.agent_id AS c_agent_id, c.team AS c_team, c.disposition AS c_disposition,
        c.case_id AS c_case_id, c.cid AS c_cid, c.email AS c_email, c.phone AS c_phone
    FROM legs AS r
    LEFT JOIN children AS c ON c.contact_id = r.interaction_id
    WHERE r.interaction_id NOT IN (SELECT leg_id FROM leg_roots)
),
raw AS (
    SELECT
        interaction_id AS contact_id,
        1 + coalesce(c_legs, 0) AS legs,
        queued_us AS started_us,
        greatest(ended_us, c_ended_us) AS ended_us,
        abandoned AND coalesce(c_abandoned, true) AS abandoned,
        -- Handled by an agent: some leg answered (or, in an asynchronous channel, replied to)
        -- and not abandoned. A leg that ended unanswered and unabandoned was not handled.
        (NOT abandoned AND coalesce(answered_us, first_response_us) IS NOT NULL)
            OR coalesce(c_handled, false) AS handled,
        channel,
        direction,
        coalesce(queue, getvariable('unassigned')) AS queue,
        coalesce(team, getvariable('unassigned')) AS team,
        CASE WHEN has_children THEN c_agent_id ELSE agent_id END AS agent_id,
        coalesce(CASE WHEN has_children THEN c_team ELSE team END, getvariable('unassigned')) AS agent_team,
        CASE WHEN has_children THEN c_disposition ELSE disposition END AS disposition,
        coalesce(c_case_id, case_id) AS case_id,
        CASE WHEN has_children AND is_placeholder(customer_id) THEN c_cid ELSE customer_id END AS cid,
        CASE WHEN has_children AND is_placeholder(customer_email) THEN c_email ELSE customer_email END AS email,
        CASE WHEN has_children AND is_placeholder(customer_phone) THEN c_phone ELSE customer_phone END AS phone
    FROM roots
)
SELECT * EXCLUDE (cid, email, phone) FROM resolve_identity('raw');
