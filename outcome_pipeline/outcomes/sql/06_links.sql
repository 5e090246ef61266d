-- Surveys and churn linked to journeys.

-- A survey names the contact (interaction_id of any leg) or the case it was sent about, or
-- only the customer. It links through the most specific reference it carries and never
-- falls back from a reference that matches no computed journey: such a survey is about an
-- older journey. Case and customer links take the latest journey started before sending.
CREATE OR REPLACE TEMP TABLE survey_links AS
WITH by_interaction AS (
    SELECT s.response_id, f.journey_id
    FROM surveys AS s
    LEFT JOIN leg_roots AS r ON r.leg_id = s.interaction_id
    JOIN contact_facts AS f ON f.contact_id = coalesce(r.root_id, s.interaction_id)
),
case_journeys AS (
    SELECT DISTINCT f.case_id, j.journey_id, j.first_us
    FROM contact_facts AS f
    JOIN journey_facts AS j USING (journey_id)
    WHERE f.case_id IS NOT NULL
),
by_case AS (
    SELECT s.response_id, arg_max(c.journey_id, (c.first_us, c.journey_id)) AS journey_id
    FROM surveys AS s
    JOIN case_journeys AS c ON c.case_id = s.case_id AND c.first_us <= s.sent_us
    WHERE s.interaction_id IS NULL
    GROUP BY s.response_id
),
by_customer AS (
    SELECT s.response_id, arg_max(j.journey_id, (j.first_us, j.journey_id)) AS journey_id
    FROM surveys AS s
    JOIN journey_facts AS j
        ON j.customer_key = s.customer_key
        AND s.sent_us BETWEEN j.first_us AND j.last_ended_us + getvariable('grace_us')
    WHERE s.interaction_id IS NULL AND s.case_id IS NULL
    GROUP BY s.response_id
),
links AS (
    SELECT * FROM by_interaction
    UNION ALL SELECT * FROM by_case
    UNION ALL SELECT * FROM by_customer
)
-- Responses after the journey's window closed are ignored, so a final journey stays final.
SELECT s.response_id, s.survey_type, s.score, s.responded_us, j.journey_id
FROM links AS k
JOIN surveys AS s USING (response_id)
JOIN journey_facts AS j USING (journey_id)
WHERE s.responded_us <= j.closes_us;

CREATE OR REPLACE TEMP TABLE journey_surveys AS
SELECT
    journey_id,
    count(*) AS survey_responses,
    arg_max(score, (responded_us, response_id)) FILTER (WHERE survey_type = 'csat') AS csat_score,
    arg_max(score, (responded_us, response_id)) FILTER (WHERE survey_type = 'nps') AS nps_score,
    arg_max(score, (responded_us, response_id)) FILTER (WHERE survey_type = 'ces') AS ces_score
FROM survey_links
GROUP BY journey_id;

-- Churn: the first 'churn' event of the customer after the journey's first contact and
-- within the long churn window (churn_long_us, default 90 days) after its last contact ended;
-- the *_30d columns use the short window (churn_short_us, default 30 days).
CREATE OR REPLACE TEMP TABLE sub_events AS
SELECT customer_id, event_type, epoch_us(occurred_at) AS occurred_us, churn_type, event_id
FROM in_subscription_events
QUALIFY row_number() OVER (
    PARTITION BY event_id
    ORDER BY updated_at DESC, partition_date DESC, source_file DESC, source_line DESC
) = 1
    AND epoch_us(occurred_at) <= getvariable('as_of_us');

CREATE OR REPLACE TEMP TABLE journey_churn AS
WITH churns AS (SELECT * FROM sub_events WHERE event_type = 'churn')
SELECT
    j.journey_id,
    min(c.occurred_us) AS churned_us,
    arg_min(c.churn_type, (c.occurred_us, c.event_id)) AS churn_type
FROM journey_facts AS j
JOIN churns AS c
    ON c.customer_id = j.customer_key
    AND c.occurred_us > j.first_us
    AND c.occurred_us <= j.last_ended_us + getvariable('churn_long_us')
WHERE j.is_ended AND NOT j.is_anonymous
GROUP BY j.journey_id;

-- Everything the output tables need per journey started on a computed day.
CREATE OR REPLACE TEMP TABLE journeys_out AS
SELECT
    j.*,
    CASE WHEN j.resolved THEN (j.last_ended_us - j.first_us) / 3.6e9 END AS ttr_hours,
    j.resolved AND j.contacts = 1 AS first_contact_resolved,
    coalesce(s.survey_responses, 0) AS survey_responses,
    s.csat_score, s.nps_score, s.ces_score,
    CASE WHEN j.is_ended AND NOT j.is_anonymous THEN
        coalesce(c.churned_us <= j.last_ended_us + getvariable('churn_short_us'), false)
    END AS churned_30d,
    CASE WHEN j.is_ended AND NOT j.is_anonymous THEN c.churned_us IS NOT NULL END AS churned_90d,
    c.churn_type,
    c.churned_us,
    j.is_ended AND getvariable('as_of_us') >= j.last_ended_us + getvariable('churn_short_us') AS churn_30d_final,
    j.is_ended AND getvariable('as_of_us') >= j.last_ended_us + getvariable('churn_long_us') AS churn_90d_final
FROM journey_facts AS j
JOIN days AS d ON d.day = j.partition_date
LEFT JOIN journey_surveys AS s USING (journey_id)
LEFT JOIN journey_churn AS c USING (journey_id);

-- Intermediates no later step reads: freed now, not at the end of the run (peak memory);
-- journeys_out carries what the selects need of them.
DROP TABLE journey_facts;
DROP TABLE journey_surveys;
DROP TABLE journey_churn;
DROP TABLE surveys;
