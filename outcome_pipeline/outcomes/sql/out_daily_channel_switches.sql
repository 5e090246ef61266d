-- Channel pairs of the switches in ended identified journeys, on the day x pair spine.
WITH journey_contacts_in_order AS (
    SELECT
        f.journey_id,
        f.channel,
        f.channel_switch,
        lag(f.channel) OVER (PARTITION BY f.journey_id ORDER BY f.started_us, f.contact_id)
            AS previous_channel
    FROM contact_facts AS f
    WHERE f.journey_id IS NOT NULL AND NOT f.is_anonymous
),
switches AS (
    SELECT
        j.partition_date AS day,
        c.previous_channel AS from_channel,
        c.channel AS to_channel,
        count(*) AS channel_switches,
        count(DISTINCT j.journey_id) AS journeys
    FROM journey_contacts_in_order AS c
    JOIN journeys_out AS j USING (journey_id)
    WHERE c.channel_switch AND j.is_ended AND NOT j.is_anonymous
    GROUP BY ALL
),
pair_spine AS (
    SELECT d.day, a.channel AS from_channel, b.channel AS to_channel
    FROM days AS d
    CROSS JOIN dim_channels AS a
    CROSS JOIN dim_channels AS b
    WHERE a.channel <> b.channel
)
SELECT
    p.day AS partition_date,
    p.from_channel,
    p.to_channel,
    coalesce(s.channel_switches, 0) AS channel_switches,
    coalesce(s.journeys, 0) AS journeys,
    t.is_final,
    us_to_ts(getvariable('as_of_us')) AS as_of
FROM pair_spine AS p
JOIN day_status AS t USING (day)
LEFT JOIN switches AS s USING (day, from_channel, to_channel)
ORDER BY partition_date, from_channel, to_channel
