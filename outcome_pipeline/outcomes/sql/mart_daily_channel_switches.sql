-- Grain: one row per computed day x (from, to) pair of distinct channels.
-- Channel pairs of the switches in ended identified journeys, on the day x pair spine.
WITH journey_contacts_in_order AS (
    SELECT
        contact.journey_id,
        contact.channel,
        contact.is_channel_switch,
        lag(contact.channel) OVER (
            PARTITION BY contact.journey_id ORDER BY contact.started_us, contact.contact_id
        ) AS previous_channel
    FROM int_contact_facts AS contact
    WHERE contact.journey_id IS NOT NULL AND NOT contact.is_anonymous
),
switches AS (
    SELECT
        journey.partition_date AS day,
        contact.previous_channel AS from_channel,
        contact.channel AS to_channel,
        count(*) AS channel_switches,
        count(DISTINCT journey.journey_id) AS journeys
    FROM journey_contacts_in_order AS contact
    JOIN int_journeys AS journey USING (journey_id)
    WHERE contact.is_channel_switch AND journey.is_ended AND NOT journey.is_anonymous
    GROUP BY ALL
),
pair_spine AS (
    SELECT computed_day.day, from_dim.channel AS from_channel, to_dim.channel AS to_channel
    FROM days AS computed_day
    CROSS JOIN dim_channels AS from_dim
    CROSS JOIN dim_channels AS to_dim
    WHERE from_dim.channel <> to_dim.channel
)
SELECT
    pair_spine.day AS partition_date,
    pair_spine.from_channel,
    pair_spine.to_channel,
    coalesce(switches.channel_switches, 0) AS channel_switches,
    coalesce(switches.journeys, 0) AS journeys,
    day_status.is_final,
    us_to_ts(getvariable('as_of_us')) AS as_of
FROM pair_spine
JOIN int_day_status AS day_status USING (day)
LEFT JOIN switches USING (day, from_channel, to_channel)
ORDER BY partition_date, from_channel, to_channel
