-- Grain: one row per journey started on a computed day: everything the marts read of it.
-- Everything the output tables need per journey started on a computed day.
CREATE OR REPLACE TEMP TABLE int_journeys AS
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
FROM int_journey_facts AS journey
JOIN days AS computed_day ON computed_day.day = journey.partition_date
LEFT JOIN int_journey_surveys AS surveys USING (journey_id)
LEFT JOIN int_journey_churn AS churn USING (journey_id);
