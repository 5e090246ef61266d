"""What the Superset starter dashboard shows: its datasets (with their metrics) and charts.

Plain definitions, read by superset_bundle.py, which writes them as Superset's YAML. A rate
is always a metric ``sum(numerator) / sum(denominator)`` from ``RATES``; a chart names the
metrics and columns it shows, and says in one line how to read it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from outcome_pipeline.outcomes import OUTCOME_TABLES, RATES
from outcome_pipeline.serving.publish import BI_TABLES
from outcome_pipeline.warehouse.tables import check_identifier

DICTIONARY = "docs/data_dictionary.md"

# -- datasets ------------------------------------------------------------------------------


def _ratio(num: str, den: str) -> str:
    # FLOAT8 is DOUBLE in both dialects; NULLIF keeps a rate without denominator NULL (0/0).
    return f"CAST(SUM({num}) AS FLOAT8) / NULLIF(SUM({den}), 0)"


@dataclass(frozen=True)
class Metric:
    name: str
    expression: str
    label: str
    d3format: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Dataset:
    key: str  # table or view name
    description: str
    main_dttm_col: str | None
    metrics: tuple[Metric, ...] = ()
    # Calculated columns: (name, SQL expression valid in both dialects, description).
    calculated: tuple[tuple[str, str, str], ...] = ()
    # A virtual dataset: its SELECT for a schema (else the table or view named ``key``).
    sql: Callable[[str], str] | None = None


_PERCENT = ".1%"


# Column headers and legends: the metric's name in words, a few as CX people say them.
_LABELS = {
    "fcr_rate": "First-contact resolution",
    "aht_seconds": "AHT (seconds)",
    "asa_seconds": "ASA (seconds)",
    "csat_rate": "CSAT (share satisfied)",
    "csat_mean": "CSAT (mean score)",
    "ces_easy_rate": "CES (share easy)",
    "ces_mean": "CES (mean score)",
    "churn_30d_rate": "Churn within 30 days",
    "churn_90d_rate": "Churn within 90 days",
    "mrr_at_stake": "MRR at stake",
}


def label(name: str) -> str:
    return _LABELS.get(name) or name.replace("_", " ").capitalize()


def _rate_metrics(table: str) -> tuple[Metric, ...]:
    """One metric per rate of ``table`` (``RATES``): sum(numerator) / sum(denominator)."""
    defs = {c.name: c.comment for c in OUTCOME_TABLES[table].columns}
    out = []
    for rate, (num, den) in sorted(RATES[table].items()):
        fmt = _PERCENT if rate.endswith(("_rate", "_share")) else ",.2f"
        out.append(Metric(rate, _ratio(num, den), label(rate), fmt, defs.get(rate)))
    return tuple(out)


def _sums(table_columns: Iterable[str], fmt: str = ",d") -> tuple[Metric, ...]:
    return tuple(Metric(c, f"SUM({c})", label(c), fmt) for c in table_columns)


_NPS = Metric(
    "nps",
    "100 * (CAST(SUM(nps_promoters) AS FLOAT8) - SUM(nps_detractors)) "
    "/ NULLIF(SUM(nps_responses), 0)",
    "NPS",
    ",.1f",
    "Net Promoter Score: % promoters - % detractors of the responses.",
)

_TTR_BUCKET = (
    "CASE WHEN NOT is_resolved THEN 'not resolved' "
    "WHEN time_to_resolution_hours < 1 THEN '1: < 1 h' "
    "WHEN time_to_resolution_hours < 4 THEN '2: 1-4 h' "
    "WHEN time_to_resolution_hours < 24 THEN '3: 4-24 h' "
    "WHEN time_to_resolution_hours < 72 THEN '4: 1-3 days' "
    "ELSE '5: > 3 days' END"
)


def _share(condition: str) -> str:
    return f"CAST(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS FLOAT8) / NULLIF(COUNT(*), 0)"


def channel_switches_sql(schema: str) -> str:
    """One row per channel switch inside a journey: a contact whose channel differs from the
    journey's previous contact's (same SQL in PostgreSQL and DuckDB)."""
    s = f'"{check_identifier(schema)}"'
    return (
        "SELECT partition_date, previous_channel, channel,\n"
        "  previous_channel || ' -> ' || channel AS channel_switch\n"
        "FROM (\n"
        "  SELECT partition_date, channel,\n"
        "    lag(channel) OVER (PARTITION BY journey_id ORDER BY contact_seq) AS previous_channel\n"
        f"  FROM {s}.journey_contacts\n"
        ") AS contacts_in_order\n"
        "WHERE previous_channel <> channel"
    )


DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "daily_outcomes",
        OUTCOME_TABLES["daily_outcomes"].comment,
        "partition_date",
        (
            *_rate_metrics("daily_outcomes"),
            _NPS,
            *_sums(("journeys_ended", "resolved_journeys", "contacts", "repeat_contacts")),
            *_sums(("revenue_at_risk", "revenue_kept", "mrr_at_stake"), ",.0f"),
        ),
    ),
    Dataset(
        "daily_agent_output_vs_outcome",
        OUTCOME_TABLES["daily_agent_output_vs_outcome"].comment,
        "partition_date",
        (
            *_rate_metrics("daily_agent_output_vs_outcome"),
            *_sums(("legs_handled",)),
        ),
    ),
    Dataset(
        "journeys",
        OUTCOME_TABLES["journeys"].comment,
        "partition_date",
        (
            Metric("journeys", "COUNT(*)", label("journeys"), ",d"),
            Metric(
                "churn_30d_rate",
                _share("is_churned_within_30d"),
                "Churn within 30 days",
                _PERCENT,
                "Share of the journeys whose customer churned within 30 days after it ended.",
            ),
            Metric(
                "churn_90d_rate",
                _share("is_churned_within_90d"),
                "Churn within 90 days",
                _PERCENT,
                "Share of the journeys whose customer churned within 90 days after it ended.",
            ),
            Metric("mrr_at_stake", "SUM(mrr_at_stake)", label("mrr_at_stake"), ",.0f"),
        ),
        (
            (
                "resolution_status",
                "CASE WHEN is_resolved THEN 'resolved' ELSE 'unresolved' END",
                "Whether the journey ended resolved (see journeys.is_resolved).",
            ),
            (
                "time_to_resolution_bucket",
                _TTR_BUCKET,
                "Time from the first contact to the resolution, in buckets.",
            ),
        ),
    ),
    Dataset(
        "journey_channel_switches",
        "One row per channel switch inside a journey (from the journey's previous contact's "
        "channel to this contact's), from journey_contacts.",
        "partition_date",
        (Metric("switches", "COUNT(*)", label("switches"), ",d"),),
        sql=channel_switches_sql,
    ),
    Dataset(
        "load_audit",
        next(t for t in BI_TABLES if t.name == "load_audit").comment,
        "partition_date",
        _sums(
            (
                "files",
                "files_quarantined",
                "rows_read",
                "rows_duplicate",
                "rows_staged",
                "rows_quarantined",
                "rows_late",
            )
        ),
    ),
    Dataset(
        "bi_daily_summary",
        "One row per business day: every rate from summed numerators and denominators.",
        "business_day",
        (),
        (
            (
                "day_status",
                "CASE WHEN is_outcome_final THEN 'final' ELSE 'provisional' END",
                "provisional: the day's journeys may still change (is_outcome_final false).",
            ),
        ),
    ),
)


# -- charts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    viz_type: str
    dataset: str
    how_to_read: str
    # The definition's section in the data dictionary.
    definition: str
    metrics: tuple[str, ...]
    # Group-by columns; for timeseries the first is the x axis (a day, grain P1D).
    columns: tuple[str, ...] = ()
    filters: tuple[dict, ...] = ()
    order_by: str | None = None
    row_limit: int = 10000
    width: int = 6
    extra_params: dict = field(default_factory=dict)

    @property
    def description(self) -> str:
        return f"{self.how_to_read} Definitions: {DICTIONARY}#{self.definition}."


TIMESERIES = ("echarts_timeseries_line", "echarts_timeseries_bar")
# The journeys the daily tables count: ended (outcome known) and identified (an anonymous
# one-contact journey has no resolution, is_resolved is NULL).
_IDENTIFIED_ENDED = (
    {"col": "is_ended", "op": "IS TRUE"},
    {"col": "is_anonymous", "op": "IS FALSE"},
)

CHARTS: tuple[Chart, ...] = (
    Chart(
        "fcr_headline",
        "First-contact resolution",
        "big_number_total",
        "daily_outcomes",
        "Share of ended journeys resolved by their first contact, over the dashboard's days.",
        "daily_outcomes",
        ("fcr_rate",),
        width=3,
    ),
    Chart(
        "false_resolution_headline",
        "False-resolution rate",
        "big_number_total",
        "daily_agent_output_vs_outcome",
        "Share of the contacts an agent marked resolved that were not (the customer came "
        "back or the case stayed open).",
        "daily_agent_output_vs_outcome",
        ("false_resolution_rate",),
        width=3,
    ),
    Chart(
        "team_bubble",
        "Outputs vs outcomes by team",
        "bubble_v2",
        "daily_agent_output_vs_outcome",
        "Each bubble is a team: right = slower (AHT), up = more contacts really resolved, "
        "size = legs handled. A team far right-up is slow but effective; far left-down is "
        "fast and failing customers.",
        "daily_agent_output_vs_outcome",
        ("aht_seconds", "real_resolution_rate", "legs_handled"),
        ("team",),
        width=6,
    ),
    Chart(
        "agent_bubble",
        "Outputs vs outcomes by agent (100 busiest)",
        "bubble_v2",
        "daily_agent_output_vs_outcome",
        "Each bubble is an agent, coloured by team: right = slower (AHT), up = more contacts "
        "really resolved, size = legs handled. Fast agents low on the chart close contacts "
        "that come back.",
        "daily_agent_output_vs_outcome",
        ("aht_seconds", "real_resolution_rate", "legs_handled"),
        ("agent_id", "team"),
        order_by="legs_handled",
        row_limit=100,
        width=6,
    ),
    Chart(
        "team_table",
        "Outputs vs outcomes by team: claimed vs real resolution",
        "table",
        "daily_agent_output_vs_outcome",
        "Per team: handle time beside the resolution agents claimed, the resolution that held, "
        "and the share of claims that were false.",
        "daily_agent_output_vs_outcome",
        (
            "legs_handled",
            "aht_seconds",
            "claimed_resolution_rate",
            "real_resolution_rate",
            "false_resolution_rate",
        ),
        ("team",),
        order_by="legs_handled",
        width=6,
    ),
    Chart(
        "agent_table",
        "Outputs vs outcomes by agent: claimed vs real resolution (100 busiest)",
        "table",
        "daily_agent_output_vs_outcome",
        "Per agent, busiest first: a short AHT with a low real-resolution rate and a high "
        "false-resolution rate is the pattern to coach.",
        "daily_agent_output_vs_outcome",
        (
            "legs_handled",
            "aht_seconds",
            "claimed_resolution_rate",
            "real_resolution_rate",
            "false_resolution_rate",
        ),
        ("team", "agent_id"),
        order_by="legs_handled",
        row_limit=100,
        width=6,
    ),
    Chart(
        "trend_fcr_repeat",
        "Daily first-contact resolution and repeat contacts",
        "echarts_timeseries_line",
        "bi_daily_summary",
        "One point per business day; series marked 'provisional' are days whose journeys can "
        "still change (not final yet).",
        "bi_daily_summary",
        ("MAX(fcr_rate)", "MAX(repeat_contact_rate)"),
        ("business_day", "day_status"),
        width=6,
    ),
    Chart(
        "trend_surveys",
        "Daily CSAT and CES (share satisfied / easy)",
        "echarts_timeseries_line",
        "bi_daily_summary",
        "Share of survey answers that were satisfied (CSAT) or easy (CES) per business day; "
        "'provisional' days can still change.",
        "bi_daily_summary",
        ("MAX(csat_rate)", "MAX(ces_easy_rate)"),
        ("business_day", "day_status"),
        width=6,
    ),
    Chart(
        "trend_nps",
        "Daily NPS",
        "echarts_timeseries_line",
        "bi_daily_summary",
        "Net Promoter Score of the day's survey answers (-100..100); 'provisional' days can "
        "still change.",
        "bi_daily_summary",
        ("MAX(nps)",),
        ("business_day", "day_status"),
        width=6,
    ),
    Chart(
        "trend_churn",
        "Daily churn after contact (30 and 90 days)",
        "echarts_timeseries_line",
        "bi_daily_summary",
        "Share of the day's ended journeys whose customer churned within 30 / 90 days; recent "
        "days are 'provisional' until the window has passed.",
        "bi_daily_summary",
        ("MAX(churn_30d_rate)", "MAX(churn_90d_rate)"),
        ("business_day", "day_status"),
        width=6,
    ),
    Chart(
        "journeys_by_channel",
        "Journeys by first channel: resolution, FCR, channel switches",
        "echarts_timeseries_bar",
        "daily_outcomes",
        "Per channel the journey started in: share resolved, resolved at first contact, and "
        "share that switched channel.",
        "daily_outcomes",
        ("resolution_rate", "fcr_rate", "channel_switch_rate"),
        ("channel",),
        width=6,
    ),
    Chart(
        "contacts_per_resolution_by_channel",
        "Contacts per resolution by first channel",
        "echarts_timeseries_bar",
        "daily_outcomes",
        "Contacts a customer needed per resolved journey (1.0 = every resolution took one "
        "contact).",
        "daily_outcomes",
        ("contacts_per_resolution",),
        ("channel",),
        width=6,
    ),
    Chart(
        "channel_switch_pairs",
        "Channel switches: from which channel to which",
        "echarts_timeseries_bar",
        "journey_channel_switches",
        "How often customers moved from one channel to another inside a journey (phone -> "
        "email: the phone call did not settle it). The most frequent pairs first.",
        "journey_contacts",
        ("switches",),
        ("channel_switch",),
        order_by="switches",
        row_limit=15,
        width=6,
    ),
    Chart(
        "time_to_resolution",
        "Time to resolution (ended, identified journeys)",
        "echarts_timeseries_bar",
        "journeys",
        "How long ended journeys took from first contact to resolution, and how many never "
        "resolved.",
        "journeys",
        ("journeys",),
        ("time_to_resolution_bucket",),
        _IDENTIFIED_ENDED,
        width=6,
    ),
    Chart(
        "contacts_per_journey",
        "Contacts per journey (ended, identified journeys)",
        "echarts_timeseries_bar",
        "journeys",
        "How many contacts ended journeys took: the long tail is customers chasing an answer.",
        "journeys",
        ("journeys",),
        ("contacts",),
        _IDENTIFIED_ENDED,
        width=6,
    ),
    Chart(
        "churn_by_resolution",
        "Churn after resolved vs unresolved journeys",
        "echarts_timeseries_bar",
        "journeys",
        "Share of customers who churned within 30 / 90 days after an ended journey, resolved "
        "or not: the gap is what unresolved contacts cost.",
        "journeys",
        ("churn_30d_rate", "churn_90d_rate"),
        ("resolution_status",),
        _IDENTIFIED_ENDED,
        width=6,
    ),
    Chart(
        "revenue_at_risk",
        "Revenue at risk and kept, per day",
        "echarts_timeseries_bar",
        "daily_outcomes",
        "Monthly recurring revenue of customers whose journey ended unresolved (at risk) or "
        "resolved (kept), per business day.",
        "daily_outcomes",
        ("revenue_at_risk", "revenue_kept"),
        ("partition_date",),
        width=12,
    ),
    Chart(
        "quality_by_day",
        "Data quality: rows quarantined and late per day",
        "echarts_timeseries_bar",
        "load_audit",
        "Rows set aside by validation (quarantined) and rows delivered on another day than "
        "their event (late), per business day, all feeds.",
        "load_audit",
        ("rows_quarantined", "rows_late", "rows_duplicate"),
        ("partition_date",),
        width=6,
    ),
    Chart(
        "quality_table",
        "Data quality per feed and day",
        "table",
        "load_audit",
        "Row accounting per feed and day: rows_read = rows_staged + rows_quarantined + "
        "rows_duplicate. Quarantine reasons are in the working warehouse (not in BI: raw PII).",
        "load_audit",
        (
            "files",
            "rows_read",
            "rows_staged",
            "rows_quarantined",
            "rows_duplicate",
            "rows_late",
        ),
        ("partition_date", "feed"),
        width=12,
    ),
)


# -- dashboard --------------------------------------------------------------

DASHBOARD_INTRO = """\
### Outputs vs outcomes

A team with a great handle time and a poor resolution rate is visible here at a glance.
Rates are recomputed from summed numerators and denominators for whatever you filter
(team, days), never averaged. *Provisional* days can still change (journeys still open,
churn windows not yet passed). Every chart's description says how to read it; column
definitions: `docs/data_dictionary.md`.
"""

# Rows of the dashboard: chart keys, each row's widths adding up to 12.
DASHBOARD_ROWS: tuple[tuple[str, ...], ...] = (
    ("fcr_headline", "false_resolution_headline"),
    ("team_bubble", "team_table"),
    ("agent_bubble", "agent_table"),
    ("trend_fcr_repeat", "trend_surveys"),
    ("trend_nps", "trend_churn"),
    ("journeys_by_channel", "contacts_per_resolution_by_channel"),
    ("channel_switch_pairs", "time_to_resolution"),
    ("contacts_per_journey", "churn_by_resolution"),
    ("revenue_at_risk",),
    ("quality_by_day", "quality_table"),
)
