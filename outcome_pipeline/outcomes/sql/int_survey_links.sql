-- Grain: one row per survey response linked to a computed journey and received before the
-- journey's window closed.
-- A survey names the contact (interaction_id of any leg) or the case it was sent about, or
-- only the customer. It links through the most specific reference it carries and never
-- falls back from a reference that matches no computed journey: such a survey is about an
-- older journey. Case and customer links take the latest journey started before sending.
CREATE OR REPLACE TEMP TABLE int_survey_links AS
WITH by_interaction AS (
    SELECT survey.response_id, contact.journey_id
    FROM int_surveys AS survey
    LEFT JOIN int_leg_roots AS leg_root ON leg_root.leg_id = survey.interaction_id
    JOIN int_contact_facts AS contact
        ON contact.contact_id = coalesce(leg_root.root_id, survey.interaction_id)
),
case_journeys AS (
    SELECT DISTINCT contact.case_id, journey.journey_id, journey.first_contact_us
    FROM int_contact_facts AS contact
    JOIN int_journey_facts AS journey USING (journey_id)
    WHERE contact.case_id IS NOT NULL
),
by_case AS (
    SELECT
        survey.response_id,
        arg_max(
            case_journey.journey_id, (case_journey.first_contact_us, case_journey.journey_id)
        ) AS journey_id
    FROM int_surveys AS survey
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
    FROM int_surveys AS survey
    JOIN int_journey_facts AS journey
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
JOIN int_surveys AS survey USING (response_id)
JOIN int_journey_facts AS journey USING (journey_id)
WHERE survey.responded_us <= journey.window_closes_us;
