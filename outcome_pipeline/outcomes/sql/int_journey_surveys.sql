-- Grain: one row per journey with at least one linked survey response.
CREATE OR REPLACE TEMP TABLE int_journey_surveys AS
SELECT
    journey_id,
    count(*) AS survey_responses,
    arg_max(score, (responded_us, response_id)) FILTER (WHERE survey_type = 'csat') AS csat_score,
    arg_max(score, (responded_us, response_id)) FILTER (WHERE survey_type = 'nps') AS nps_score,
    arg_max(score, (responded_us, response_id)) FILTER (WHERE survey_type = 'ces') AS ces_score
FROM int_survey_links
GROUP BY journey_id;
