WITH j AS (
    SELECT * FROM journeys_out WHERE NOT is_anonymous
),
jagg AS (
    SELECT
        partition_date AS day, first_channel AS channel, first_queue AS queue,
        first_team AS team, segment,
        count(*) AS journeys_started,
        count(*) FILTER (WHERE is_ended) AS journeys_ended,
        sum(contacts) FILTER (WHERE is_ended) AS contacts_ended,
        count(*) FILTER (WHERE resolved) AS resolved,
        count(*) FILTER (WHERE is_ended AND NOT resolved) AS failed,
        count(*) FILTER (WHERE first_contact_resolved) AS fcr,
        count(*) FILTER (WHERE is_ended AND channels > 1) AS multichannel,
        sum(contacts) FILTER (WHERE resolved) AS contacts_resolved,
        quantile_disc(contacts, 0.9) FILTER (WHERE resolved) AS cpr_p90,
        quantile_cont(ttr_hours, 0.5) FILTER (WHERE resolved) AS ttr_median,
        quantile_cont(ttr_hours, 0.9) FILTER (WHERE resolved) AS ttr_p90,
        count(*) FILTER (
            WHERE first_contact_resolved AND (ces_score IS NULL OR ces_score >= getvariable('ces_easy_min'))
        ) AS effortless,
        count(*) FILTER (WHERE churned_30d) AS churned_30d,
        count(*) FILTER (WHERE churned_30d AND churn_type = 'voluntary') AS churned_30d_vol,
        count(*) FILTER (WHERE churned_30d AND churn_type = 'involuntary') AS churned_30d_invol,
        count(*) FILTER (WHERE churned_90d) AS churned_90d,
        count(*) FILTER (WHERE churned_90d AND churn_type = 'voluntary') AS churned_90d_vol,
        count(*) FILTER (WHERE churned_90d AND churn_type = 'involuntary') AS churned_90d_invol,
        count(*) FILTER (WHERE churned_90d AND NOT resolved) AS churned_90d_failed,
        -- Money is summed as DECIMAL (exact, to 1/10000): a DOUBLE sum depends on the order
        -- the engine's threads add the rows in, and a rerun must give identical tables.
        sum(mrr_at_stake::DECIMAL(18, 4)) FILTER (WHERE is_ended)::DOUBLE AS mrr_at_stake,
        sum(mrr_at_stake::DECIMAL(18, 4)) FILTER (WHERE is_ended AND NOT resolved)::DOUBLE
            AS revenue_at_risk,
        sum(mrr_at_stake::DECIMAL(18, 4)) FILTER (WHERE resolved AND NOT churned_90d)::DOUBLE
            AS revenue_kept
    FROM j
    GROUP BY ALL
),
sagg AS (
    SELECT
        j.partition_date AS day, j.first_channel AS channel, j.first_queue AS queue,
        j.first_team AS team, j.segment,
        count(*) FILTER (WHERE l.survey_type = 'csat') AS csat_n,
        count(*) FILTER (WHERE l.survey_type = 'csat' AND l.score >= getvariable('csat_satisfied_min')) AS csat_ok,
        sum(l.score) FILTER (WHERE l.survey_type = 'csat') AS csat_sum,
        count(*) FILTER (WHERE l.survey_type = 'nps') AS nps_n,
        count(*) FILTER (WHERE l.survey_type = 'nps' AND l.score >= getvariable('nps_promoter_min')) AS nps_pro,
        count(*) FILTER (WHERE l.survey_type = 'nps' AND l.score <= getvariable('nps_detractor_max')) AS nps_det,
        count(*) FILTER (WHERE l.survey_type = 'ces') AS ces_n,
        count(*) FILTER (WHERE l.survey_type = 'ces' AND l.score >= getvariable('ces_easy_min')) AS ces_ok,
        sum(l.score) FILTER (WHERE l.survey_type = 'ces') AS ces_sum
    FROM survey_links AS l
    JOIN j USING (journey_id)
    GROUP BY ALL
),
cagg AS (
    SELECT
        f.start_day AS day, f.channel, f.queue, f.team, f.segment,
        count(*) FILTER (WHERE NOT f.is_anonymous) AS contacts,
        count(*) FILTER (WHERE NOT f.is_anonymous AND f.is_repeat) AS repeats,
        count(*) FILTER (WHERE f.is_anonymous) AS anonymous,
        count(*) FILTER (WHERE NOT f.is_anonymous AND f.claim_known AND f.window_closed)
            AS claims_known,
        count(*) FILTER (WHERE NOT f.is_anonymous AND f.claimed AND f.window_closed) AS claims,
        count(*) FILTER (
            WHERE NOT f.is_anonymous AND f.claimed AND f.window_closed AND f.followed
        ) AS false_claims
    FROM contact_facts AS f
    JOIN days AS d ON d.day = f.start_day
    GROUP BY ALL
)
SELECT
    s.day AS partition_date,
    s.channel,
    s.queue,
    s.team,
    s.segment,
    coalesce(a.journeys_started, 0) AS journeys_started,
    coalesce(a.journeys_ended, 0) AS journeys_ended,
    coalesce(a.contacts_ended, 0) AS contacts_in_ended_journeys,
    coalesce(a.resolved, 0) AS resolved_journeys,
    ratio(coalesce(a.resolved, 0), coalesce(a.journeys_ended, 0)) AS resolution_rate,
    coalesce(a.failed, 0) AS failed_journeys,
    coalesce(a.fcr, 0) AS fcr_journeys,
    ratio(coalesce(a.fcr, 0), coalesce(a.journeys_ended, 0)) AS fcr_rate,
    coalesce(a.multichannel, 0) AS multichannel_journeys,
    ratio(coalesce(a.multichannel, 0), coalesce(a.journeys_ended, 0)) AS channel_switch_rate,
    coalesce(a.contacts_resolved, 0) AS contacts_in_resolved_journeys,
    ratio(coalesce(a.contacts_resolved, 0), coalesce(a.resolved, 0)) AS contacts_per_resolution,
    a.cpr_p90 AS contacts_per_resolution_p90,
    a.ttr_median AS time_to_resolution_median_hours,
    a.ttr_p90 AS time_to_resolution_p90_hours,
    coalesce(a.effortless, 0) AS effortless_resolutions,
    ratio(coalesce(a.effortless, 0), coalesce(a.journeys_ended, 0)) AS effortless_resolution_rate,
    ratio(coalesce(a.resolved, 0), coalesce(a.contacts_ended, 0)) AS customer_success_ratio,
    coalesce(v.csat_n, 0) AS csat_responses,
    coalesce(v.csat_ok, 0) AS csat_satisfied,
    ratio(coalesce(v.csat_ok, 0), coalesce(v.csat_n, 0)) AS csat_rate,
    coalesce(v.csat_sum, 0) AS csat_score_sum,
    ratio(coalesce(v.csat_sum, 0), coalesce(v.csat_n, 0)) AS csat_mean,
    coalesce(v.nps_n, 0) AS nps_responses,
    coalesce(v.nps_pro, 0) AS nps_promoters,
    coalesce(v.nps_det, 0) AS nps_detractors,
    100 * ratio(coalesce(v.nps_pro, 0) - coalesce(v.nps_det, 0), coalesce(v.nps_n, 0)) AS nps,
    coalesce(v.ces_n, 0) AS ces_responses,
    coalesce(v.ces_ok, 0) AS ces_easy,
    ratio(coalesce(v.ces_ok, 0), coalesce(v.ces_n, 0)) AS ces_easy_rate,
    coalesce(v.ces_sum, 0) AS ces_score_sum,
    ratio(coalesce(v.ces_sum, 0), coalesce(v.ces_n, 0)) AS ces_mean,
    coalesce(a.churned_30d, 0) AS churned_30d,
    coalesce(a.churned_30d_vol, 0) AS churned_30d_voluntary,
    coalesce(a.churned_30d_invol, 0) AS churned_30d_involuntary,
    ratio(coalesce(a.churned_30d, 0), coalesce(a.journeys_ended, 0)) AS churn_30d_rate,
    coalesce(a.churned_90d, 0) AS churned_90d,
    coalesce(a.churned_90d_vol, 0) AS churned_90d_voluntary,
    coalesce(a.churned_90d_invol, 0) AS churned_90d_involuntary,
    ratio(coalesce(a.churned_90d, 0), coalesce(a.journeys_ended, 0)) AS churn_90d_rate,
    coalesce(a.churned_90d_failed, 0) AS churned_90d_after_failed,
    ratio(coalesce(a.churned_90d_failed, 0), coalesce(a.failed, 0)) AS churn_90d_rate_after_failed,
    coalesce(a.mrr_at_stake, 0) AS mrr_at_stake,
    coalesce(a.revenue_at_risk, 0) AS revenue_at_risk,
    coalesce(a.revenue_kept, 0) AS revenue_kept,
    coalesce(c.contacts, 0) AS contacts,
    coalesce(c.repeats, 0) AS repeat_contacts,
    ratio(coalesce(c.repeats, 0), coalesce(c.contacts, 0)) AS repeat_contact_rate,
    coalesce(c.anonymous, 0) AS anonymous_contacts,
    -- Claim-based: NULL where no closed contact of the row carries a claim (no disposition,
    -- no case), never a confident zero.
    CASE WHEN c.claims_known > 0 THEN c.claims END AS resolved_claims,
    CASE WHEN c.claims_known > 0 THEN c.false_claims END AS false_resolutions,
    ratio(c.false_claims, CASE WHEN c.claims_known > 0 THEN c.claims END) AS false_resolution_rate,
    t.is_final,
    t.is_final AND getvariable('as_of_us') >= t.last_end_us + getvariable('churn_short_us') AS churn_30d_is_final,
    t.is_final AND getvariable('as_of_us') >= t.last_end_us + getvariable('churn_long_us') AS churn_90d_is_final,
    us_to_ts(getvariable('as_of_us')) AS as_of
FROM spine AS s
JOIN day_status AS t USING (day)
LEFT JOIN jagg AS a USING (day, channel, queue, team, segment)
LEFT JOIN sagg AS v USING (day, channel, queue, team, segment)
LEFT JOIN cagg AS c USING (day, channel, queue, team, segment)
ORDER BY partition_date, channel, queue, team, segment
