"""Small daily tables that hold what a chart of journeys needs and a daily rate cannot say:
which channel pairs customers switch between, how long resolutions take (a distribution, not
one median), and churn after resolved versus unresolved journeys.

They read the same journeys as ``daily_outcomes`` (identified journeys by the day of their
first contact, counted once they have ended), so their counts add up to its columns: the
report and BI draw them without reading the journeys.
"""

from __future__ import annotations

from outcome_pipeline.outcomes.columns import BOOL, F64, STR, as_of, col, count, partition, rate
from outcome_pipeline.warehouse.tables import TableDef

# Time-to-resolution buckets (label, lower hours inclusive, upper hours exclusive; None: open).
# Edges at the moments a CX team talks about: within the hour, the shift, the day, three days,
# the repeat window (7 days), two weeks. A presentation of the distribution, not a metric
# setting: the median and p90 in daily_outcomes do not depend on them.
TTR_BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("< 1 h", 0.0, 1.0),
    ("1-4 h", 1.0, 4.0),
    ("4-24 h", 4.0, 24.0),
    ("1-3 d", 24.0, 72.0),
    ("3-7 d", 72.0, 168.0),
    ("7-14 d", 168.0, 336.0),
    (">= 14 d", 336.0, None),
)

_ENDED = "ended identified journeys started this day (as in daily_outcomes.journeys_ended)"

DAILY_CHANNEL_SWITCHES = TableDef(
    name="daily_channel_switches",
    comment=(
        "Which channels customers switch between, one row per business day x channel the "
        "customer left (from_channel) x channel they came back on (to_channel), every pair of "
        "two different contract channels (0 when none). A switch is a contact of a journey "
        "whose channel differs from the journey's previous contact's (journeys.channel_switches);"
        f" counted over the {_ENDED}, by the journey's first-contact day. The switches of a day "
        "sum to journeys.channel_switches over those journeys."
    ),
    columns=(
        partition("the journeys' first-contact day"),
        col("from_channel", STR, "Channel of the previous contact of the journey."),
        col("to_channel", STR, "Channel of the contact that switched."),
        count("channel_switches", f"Switches from from_channel to to_channel in the {_ENDED}."),
        count("journeys", "Of those journeys, the ones with at least one such switch."),
        col("is_final", BOOL, "As daily_outcomes.is_final for the day."),
        as_of(),
    ),
    order_by=("from_channel", "to_channel"),
)

DAILY_TIME_TO_RESOLUTION = TableDef(
    name="daily_time_to_resolution",
    comment=(
        "The distribution of time to resolution, one row per business day x bucket (every "
        "bucket, 0 when none): resolved identified journeys started this day by their first "
        "contact start -> last contact end (journeys.time_to_resolution_hours). The buckets "
        "of a day sum to daily_outcomes.resolved_journeys."
    ),
    columns=(
        partition("the journeys' first-contact day"),
        col("bucket", STR, "Label of the bucket (< 1 h, 1-4 h, ..., >= 14 d)."),
        count("bucket_order", "Position of the bucket, from 1 (shortest)."),
        col("lower_hours", F64, "Lower edge, hours (inclusive)."),
        col("upper_hours", F64, "Upper edge, hours (exclusive); NULL for the last bucket."),
        count("resolved_journeys", "Resolved journeys whose time to resolution is in the bucket."),
        col("is_final", BOOL, "As daily_outcomes.is_final for the day."),
        as_of(),
    ),
    order_by=("bucket_order",),
)

DAILY_CHURN_BY_OUTCOME = TableDef(
    name="daily_churn_by_outcome",
    comment=(
        "Churn after contact split by what the customer got, one row per business day x "
        "journey outcome ('resolved' / 'unresolved'; both rows on every day): the "
        f"{_ENDED}, resolved (journeys.is_resolved) or not. Shows whether failed journeys lose "
        "customers and how much revenue they put at risk. The two rows of a day sum to "
        "daily_outcomes' journeys_ended, churned_30d, churned_90d and mrr_at_stake."
    ),
    columns=(
        partition("the journeys' first-contact day"),
        col("journey_outcome", STR, "'resolved' or 'unresolved' (ended, not resolved)."),
        count("journeys_ended", f"The {_ENDED} with this outcome."),
        count(
            "churned_30d",
            "Of those, with a churn event after the first contact and within 30 days after the "
            "last contact ended.",
        ),
        rate("churn_30d_rate", "churned_30d", "journeys_ended"),
        count("churned_90d", "Of those, with such a churn event within 90 days."),
        rate("churn_90d_rate", "churned_90d", "journeys_ended"),
        col(
            "mrr_at_stake",
            F64,
            "Sum of journeys.mrr_at_stake over them; for 'unresolved' this is "
            "daily_outcomes.revenue_at_risk.",
        ),
        col("mrr_churned_90d", F64, "Sum of journeys.mrr_at_stake over the churned_90d journeys."),
        col("is_churn_30d_final", BOOL, "As daily_outcomes.is_churn_30d_final for the day."),
        col("is_churn_90d_final", BOOL, "As daily_outcomes.is_churn_90d_final for the day."),
        as_of(),
    ),
    order_by=("journey_outcome",),
)
