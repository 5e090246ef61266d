-- Grain: one row per computed day x channel x queue x team x segment (int_daily_spine).
WITH identified_journeys AS (
    SELECT * FROM int_journeys WHERE NOT is_anonymous
),
journey_counts AS (
    SELECT
        partition_date AS day, first_channel AS channel, first_queue AS queue,
        first_team AS team, segment,
        count(*) AS journeys_started,
        count(*) FILTER (WHERE is_ended) AS journeys_ended,
        sum(contacts) FILTER (WHERE is_ended) AS contacts_in_ended_journeys,
        count(*) FILTER (WHERE is_resolved) AS resolved_journeys,
        count(*) FILTER (WHERE is_ended AND NOT is_resolved) AS failed_journeys,
        count(*) FILTER (WHERE is_first_contact_resolved) AS fcr_journeys,
        count(*) FILTER (WHERE is_ended AND channels > 1) AS multichannel_journeys,
        sum(contacts) FILTER (WHERE is_resolved) AS contacts_in_resolved_journeys,
        quantile_disc(contacts, 0.9) FILTER (WHERE is_resolved) AS contacts_per_resolution_p90,
        quantile_cont(time_to_resolution_hours, 0.5) FILTER (WHERE is_resolved)
            AS time_to_resolution_median_hours,
        quantile_cont(time_to_resolution_hours, 0.9) FILTER (WHERE is_resolved)
            AS time_to_resolution_p90_hours,
        count(*) FILTER (
            WHERE is_first_contact_resolved
                AND (ces_score IS NULL OR ces_score >= getvariable('ces_easy_min'))
        ) AS effortless_resolutions,
        count(*) FILTER (WHERE is_churned_within_30d) AS churned_30d,
        count(*) FILTER (WHERE is_churned_within_30d AND churn_type = 'voluntary')
            AS churned_30d_voluntary,
        count(*) FILTER (WHERE is_churned_within_30d AND churn_type = 'involuntary')
            AS churned_30d_involuntary,
        count(*) FILTER (WHERE is_churned_within_90d) AS churned_90d,
        count(*) FILTER (WHERE is_churned_within_90d AND churn_type = 'voluntary')
            AS churned_90d_voluntary,
        count(*) FILTER (WHERE is_churned_within_90d AND churn_type = 'involuntary')
            AS churned_90d_involuntary,
        count(*) FILTER (WHERE is_churned_within_90d AND NOT is_resolved)
            AS churned_90d_after_failed,
        -- Money is summed as DECIMAL (exact, to 1/10000): a DOUBLE sum depends on the order
        -- the engine's threads add the rows in, and a rerun must give identical tables.
        sum(mrr_at_stake::DECIMAL(18, 4)) FILTER (WHERE is_ended)::DOUBLE AS mrr_at_stake,
        sum(mrr_at_stake::DECIMAL(18, 4)) FILTER (WHERE is_ended AND NOT is_resolved)::DOUBLE
            AS revenue_at_risk,
        sum(mrr_at_stake::DECIMAL(18, 4))
            FILTER (WHERE is_resolved AND NOT is_churned_within_90d)::DOUBLE AS revenue_kept
    FROM identified_journeys
    GROUP BY ALL
),
survey_counts AS (
    SELECT
        journey.partition_date AS day, journey.first_channel AS channel,
        journey.first_queue AS queue, journey.first_team AS team, journey.segment,
        count(*) FILTER (WHERE link.survey_type = 'csat') AS csat_responses,
        count(*) FILTER (
            WHERE link.survey_type = 'csat' AND link.score >= getvariable('csat_satisfied_min')
        ) AS csat_satisfied,
        sum(link.score) FILTER (WHERE link.survey_type = 'csat') AS csat_score_sum,
        count(*) FILTER (WHERE link.survey_type = 'nps') AS nps_responses,
        count(*) FILTER (
            WHERE link.survey_type = 'nps' AND link.score >= getvariable('nps_promoter_min')
        ) AS nps_promoters,
        count(*) FILTER (
            WHERE link.survey_type = 'nps' AND link.score <= getvariable('nps_detractor_max')
        ) AS nps_detractors,
        count(*) FILTER (WHERE link.survey_type = 'ces') AS ces_responses,
        count(*) FILTER (
            WHERE link.survey_type = 'ces' AND link.score >= getvariable('ces_easy_min')
        ) AS ces_easy,
        sum(link.score) FILTER (WHERE link.survey_type = 'ces') AS ces_score_sum
    FROM int_survey_links AS link
    JOIN identified_journeys AS journey USING (journey_id)
    GROUP BY ALL
),
contact_counts AS (
    SELECT
        contact.start_day AS day, contact.channel, contact.queue, contact.team, contact.segment,
        count(*) FILTER (WHERE NOT contact.is_anonymous) AS contacts,
        count(*) FILTER (WHERE NOT contact.is_anonymous AND contact.is_repeat) AS repeat_contacts,
        count(*) FILTER (WHERE contact.is_anonymous) AS anonymous_contacts,
        count(*) FILTER (
            WHERE NOT contact.is_anonymous AND contact.is_claim_known AND contact.is_window_closed
        ) AS claim_known_contacts,
        count(*) FILTER (
            WHERE NOT contact.is_anonymous AND contact.is_claimed_resolved
                AND contact.is_window_closed
        ) AS resolved_claims,
        count(*) FILTER (
            WHERE NOT contact.is_anonymous AND contact.is_claimed_resolved
                AND contact.is_window_closed AND contact.is_followed_within_window
        ) AS false_resolutions
    FROM int_contact_facts AS contact
    JOIN days AS computed_day ON computed_day.day = contact.start_day
    GROUP BY ALL
),
cells AS (
    SELECT
        spine.day AS partition_date,
        spine.channel,
        spine.queue,
        spine.team,
        spine.segment,
        coalesce(journeys.journeys_started, 0) AS journeys_started,
        coalesce(journeys.journeys_ended, 0) AS journeys_ended,
        coalesce(journeys.contacts_in_ended_journeys, 0) AS contacts_in_ended_journeys,
        coalesce(journeys.resolved_journeys, 0) AS resolved_journeys,
        coalesce(journeys.failed_journeys, 0) AS failed_journeys,
        coalesce(journeys.fcr_journeys, 0) AS fcr_journeys,
        coalesce(journeys.multichannel_journeys, 0) AS multichannel_journeys,
        coalesce(journeys.contacts_in_resolved_journeys, 0) AS contacts_in_resolved_journeys,
        journeys.contacts_per_resolution_p90,
        journeys.time_to_resolution_median_hours,
        journeys.time_to_resolution_p90_hours,
        coalesce(journeys.effortless_resolutions, 0) AS effortless_resolutions,
        coalesce(surveys.csat_responses, 0) AS csat_responses,
        coalesce(surveys.csat_satisfied, 0) AS csat_satisfied,
        coalesce(surveys.csat_score_sum, 0) AS csat_score_sum,
        coalesce(surveys.nps_responses, 0) AS nps_responses,
        coalesce(surveys.nps_promoters, 0) AS nps_promoters,
        coalesce(surveys.nps_detractors, 0) AS nps_detractors,
        100 * ratio(
            coalesce(surveys.nps_promoters, 0) - coalesce(surveys.nps_detractors, 0),
            coalesce(surveys.nps_responses, 0)
        ) AS nps,
        coalesce(surveys.ces_responses, 0) AS ces_responses,
        coalesce(surveys.ces_easy, 0) AS ces_easy,
        coalesce(surveys.ces_score_sum, 0) AS ces_score_sum,
        coalesce(journeys.churned_30d, 0) AS churned_30d,
        coalesce(journeys.churned_30d_voluntary, 0) AS churned_30d_voluntary,
        coalesce(journeys.churned_30d_involuntary, 0) AS churned_30d_involuntary,
        coalesce(journeys.churned_90d, 0) AS churned_90d,
        coalesce(journeys.churned_90d_voluntary, 0) AS churned_90d_voluntary,
        coalesce(journeys.churned_90d_involuntary, 0) AS churned_90d_involuntary,
        coalesce(journeys.churned_90d_after_failed, 0) AS churned_90d_after_failed,
        coalesce(journeys.mrr_at_stake, 0) AS mrr_at_stake,
        coalesce(journeys.revenue_at_risk, 0) AS revenue_at_risk,
        coalesce(journeys.revenue_kept, 0) AS revenue_kept,
        coalesce(contacts.contacts, 0) AS contacts,
        coalesce(contacts.repeat_contacts, 0) AS repeat_contacts,
        coalesce(contacts.anonymous_contacts, 0) AS anonymous_contacts,
        -- Claim-based: NULL where no closed contact of the row carries a claim (no disposition,
        -- no case), never a confident zero.
        CASE WHEN contacts.claim_known_contacts > 0 THEN contacts.resolved_claims END
            AS resolved_claims,
        CASE WHEN contacts.claim_known_contacts > 0 THEN contacts.false_resolutions END
            AS false_resolutions,
        day_status.is_final,
        day_status.is_churn_30d_final,
        day_status.is_churn_90d_final,
        us_to_ts(getvariable('as_of_us')) AS as_of
    FROM int_daily_spine AS spine
    JOIN int_day_status AS day_status USING (day)
    LEFT JOIN journey_counts AS journeys USING (day, channel, queue, team, segment)
    LEFT JOIN survey_counts AS surveys USING (day, channel, queue, team, segment)
    LEFT JOIN contact_counts AS contacts USING (day, channel, queue, team, segment)
)
-- The rates: ratio(numerator, denominator) of the cells' columns, generated from RATES.
SELECT * FROM daily_outcomes_with_rates('cells')
ORDER BY partition_date, channel, queue, team, segment
