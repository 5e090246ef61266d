-- Surveys and churn linked to journeys.

-- A survey names the contact (interaction_id of any leg) or the case it was sent about, or
-- only the customer. It links through the most specific reference it carries and never
-- falls back from a reference that matches no computed journey: such a survey is about an
-- older journey. Case and customer links take the latest journey started before sending.
CREATE OR REPLACE TEMP TABLE survey_links AS
WITH by_interaction AS (
    SELECT survey.response_id, contact.journey_id
    FROM surveys AS survey
    LEFT JOIN leg_roots AS leg_root ON leg_root.leg_id = survey.interaction_id
    JOIN contact_facts AS contact
        ON contact.contact_id = coalesce(leg_root.root_id, survey.interaction_id)
),
case_journeys AS (
    SELECT DISTINCT contact.case_id, journey.journey_id, journey.first_contact_us
    FROM contact_facts AS contact
    JOIN journey_facts AS journey USING (journey_id)
    WHERE contact.case_id IS NOT NULL
),
by_case AS (
    SELECT
        survey.response_id,
        arg_max(
            case_journey.journey_id, (case_journey.first_contact_us, case_journey.journey_id)
        ) AS journey_id
    FROM surveys AS survey
    JOIN case_journeys AS case_journey
        ON case_journey.case_id = survey.case_id
        AND case_journey.first_contact_us <= survey.sent_us
    WHERE survey.interaction_id IS NULL
    GROUP BY survey.response_id
),
by_customer AS (
    SELECT
        survey.response_id,
        arg_max(journey.journey_id, (journey.first_contact_us, journey.journey_id)) AS journey_id
    FROM surveys AS survey
    JOIN journey_facts AS journey
        ON journey.customer_key = survey.customer_key
        AND survey.sent_us BETWEEN journey.first_contact_us
            AND journey.last_contact_ended_us + getvariable('grace_us')
    WHERE survey.interaction_id IS NULL AND survey.case_id IS NULL
    GROUP BY survey.response_id
),
links AS (
    SELECT * FROM by_interaction
    UNION ALL SELECT * FROM by_case
    UNION ALL SELECT * FROM by_customer
)
-- Responses after the journey's window closed are ignored, so a final journey stays final.
SELECT survey.response_id, survey.survey_type, survey.score, survey.responded_us, journey.journey_id
FROM links
JOIN surveys AS survey USING (response_id)
JOIN journey_facts AS journey USING (journey_id)
WHERE survey.responded_us <= journey.window_closes_us;

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
    journey.journey_id,
    min(churn.occurred_us) AS churned_us,
    arg_min(churn.churn_type, (churn.occurred_us, churn.event_id)) AS churn_type
FROM journey_facts AS journey
JOIN churns AS churn
    ON churn.customer_id = journey.customer_key
    AND churn.occurred_us > journey.first_contact_us
    AND churn.occurred_us <= journey.last_contact_ended_us + getvariable('churn_long_us')
WHERE journey.is_ended AND NOT journey.is_anonymous
GROUP BY journey.journey_id;

-- Everything the output tables need per journey started on a computed day.
CREATE OR REPLACE TEMP TABLE journeys_out AS
SELECT
    journey.*,
    CASE WHEN journey.is_resolved THEN
        (journey.last_contact_ended_us - journey.first_contact_us) / 3.6e9
    END AS time_to_resolution_hours,
    journey.is_resolved AND journey.contacts = 1 AS is_first_contact_resolved,
    coalesce(surveys.survey_responses, 0) AS survey_responses,
    surveys.csat_score, surveys.nps_score, surveys.ces_score,
    CASE WHEN journey.is_ended AND NOT journey.is_anonymous THEN
        coalesce(
            churn.churned_us <= journey.last_contact_ended_us + getvariable('churn_short_us'),
            false
        )
    END AS is_churned_within_30d,
    CASE WHEN journey.is_ended AND NOT journey.is_anonymous THEN
        churn.churned_us IS NOT NULL
    END AS is_churned_within_90d,
    churn.churn_type,
    churn.churned_us,
    journey.is_ended
        AND getvariable('as_of_us') >= journey.last_contact_ended_us + getvariable('churn_short_us')
        AS is_churn_30d_final,
    journey.is_ended
        AND getvariable('as_of_us') >= journey.last_contact_ended_us + getvariable('churn_long_us')
        AS is_churn_90d_final
FROM journey_facts AS journey
JOIN days AS computed_day ON computed_day.day = journey.partition_date
LEFT JOIN journey_surveys AS surveys USING (journey_id)
LEFT JOIN journey_churn AS churn USING (journey_id);

-- Intermediates no later step reads: freed now, not at the end of the run (peak memory);
-- journeys_out carries what the selects need of them.
DROP TABLE journey_facts;
DROP TABLE journey_surveys;
DROP TABLE journey_churn;
DROP TABLE surveys;
