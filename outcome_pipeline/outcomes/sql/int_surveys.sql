-- Grain: one row per survey response known at as_of (its latest delivery), with its
-- customer key.
CREATE OR REPLACE TEMP TABLE int_surveys AS
WITH latest AS (
    SELECT
        response_id, survey_type, score,
        nullif(trim(interaction_id), '') AS interaction_id,
        nullif(trim(case_id), '') AS case_id,
        customer_id AS cid, customer_email AS email, customer_phone AS phone,
        epoch_us(sent_at) AS sent_us,
        epoch_us(responded_at) AS responded_us
    FROM latest_delivery('in_survey_responses', response_id)
    WHERE responded_at <= getvariable('as_of_ts')
)
SELECT * EXCLUDE (cid, email, phone, match_rule) FROM resolve_identity('latest');
