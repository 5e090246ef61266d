"""What the outcome report shows, declared: one :class:`Chart` per picture, each with the SQL
that reads its figures from the warehouse's daily tables, how to read it, and where its
definitions are.

Every figure drawn or printed is a row of a chart's SQL, and the SQL only reads daily tables
(and the load audit / quarantine reason codes for data quality), never the journeys: the
report of 90 days costs the same at 10k or 1M contacts a day. A rate over several days or
teams is re-derived from its summed numerator and denominator (the tables keep both), never
an average of daily rates; NULL where the denominator is 0.

The SQL is portable (DuckDB and PostgreSQL): ``{table}`` names a warehouse table (qualified by
the builder), ``:start`` / ``:end`` are the first and last business day, inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from outcome_pipeline.contracts.feeds import CONTRACTS


@dataclass(frozen=True)
class Column:
    """A printed figure: a column of the chart's SQL and how the page formats it."""

    name: str
    label: str
    fmt: str = "int"  # int | pct | float1 | seconds | money | text | bool | date


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    how_to_read: str
    # Warehouse tables whose definitions the chart draws (data dictionary anchors).
    tables: tuple[str, ...]
    sql: str
    draw: str  # the drawing function in draw.py
    columns: tuple[Column, ...]
    # Rows printed under the chart (the first ones in the SQL's order); the picture draws all.
    print_rows: int = 40
    options: dict = field(default_factory=dict)


def rate(numerator: str, denominator: str, scale: str = "") -> str:
    """A rate over summed parts: NULL when the summed denominator is 0."""
    return f"{scale}CAST(sum({numerator}) AS DOUBLE PRECISION) / NULLIF(sum({denominator}), 0)"


def total(column: str) -> str:
    """A summed count, as BIGINT on both engines (PostgreSQL's sum(bigint) is NUMERIC)."""
    return f"CAST(sum({column}) AS BIGINT)"


_IN_RANGE = "partition_date BETWEEN :start AND :end"

_OUTPUTS_VS_OUTCOMES = f"""
    {total("legs_handled")} AS legs_handled,
    {rate("handle_seconds_sum", "legs_handled")} AS aht_seconds,
    {rate("really_resolved_contacts", "judged_contacts")} AS real_resolution_rate,
    {rate("false_resolutions", "resolved_claims")} AS false_resolution_rate,
    {total("judged_contacts")} AS judged_contacts,
    bool_and(is_final) AS is_final
FROM {{daily_agent_output_vs_outcome}}
WHERE {_IN_RANGE}"""

_OVO_COLUMNS = (
    Column("legs_handled", "legs handled"),
    Column("aht_seconds", "AHT", "seconds"),
    Column("real_resolution_rate", "confirmed resolution", "pct"),
    Column("false_resolution_rate", "false resolution", "pct"),
    Column("is_final", "final", "bool"),
)

TEAMS = Chart(
    id="teams_outputs_vs_outcomes",
    title="Outputs vs outcomes by team",
    how_to_read=(
        "Right is slower, up is better for the customer; a big bubble low on the chart is a "
        "team that handles many contacts fast but leaves customers coming back. The label is "
        "the share of its 'resolved' claims that were followed by a repeat within W."
    ),
    tables=("daily_agent_output_vs_outcome",),
    sql=f"SELECT team, {_OUTPUTS_VS_OUTCOMES}\nGROUP BY team\nORDER BY legs_handled DESC, team",
    draw="bubbles",
    columns=(Column("team", "team", "text"), *_OVO_COLUMNS),
    options={"label": "team"},
)

AGENTS = Chart(
    id="agents_outputs_vs_outcomes",
    title="Outputs vs outcomes by agent",
    how_to_read=(
        "One bubble per agent, coloured by team: the same axes as the team view. Agents "
        "bottom-left are quick and leave customers coming back; the table lists the busiest."
    ),
    tables=("daily_agent_output_vs_outcome",),
    sql=(
        f"SELECT team, agent_id, {_OUTPUTS_VS_OUTCOMES}\nGROUP BY team, agent_id\n"
        "ORDER BY legs_handled DESC, team, agent_id"
    ),
    draw="bubbles",
    columns=(Column("team", "team", "text"), Column("agent_id", "agent", "text"), *_OVO_COLUMNS),
    print_rows=25,
    options={"label": None, "colour_by": "team"},
)

TRENDS = Chart(
    id="daily_trends",
    title="Daily outcomes",
    how_to_read=(
        "Each panel is one outcome per business day. Hollow points on a grey band are "
        "provisional (is_final false: journeys, or the 30-day churn window, still open) and "
        "can still move; solid points are final."
    ),
    tables=("daily_outcomes",),
    sql=f"""SELECT
    partition_date,
    {rate("fcr_journeys", "journeys_ended")} AS fcr_rate,
    {rate("repeat_contacts", "contacts")} AS repeat_contact_rate,
    {rate("csat_satisfied", "csat_responses")} AS csat_rate,
    {rate("nps_promoters - nps_detractors", "nps_responses", "100 * ")} AS nps,
    {rate("ces_score_sum", "ces_responses")} AS ces_mean,
    {rate("churned_30d", "journeys_ended")} AS churn_30d_rate,
    bool_and(is_final) AS is_final,
    bool_and(is_churn_30d_final) AS is_churn_30d_final
FROM {{daily_outcomes}}
WHERE {_IN_RANGE}
GROUP BY partition_date
ORDER BY partition_date""",
    draw="trends",
    columns=(
        Column("partition_date", "day", "date"),
        Column("fcr_rate", "FCR", "pct"),
        Column("repeat_contact_rate", "repeat contacts", "pct"),
        Column("csat_rate", "CSAT (4-5)", "pct"),
        Column("nps", "NPS", "float1"),
        Column("ces_mean", "CES (1-7)", "float1"),
        Column("churn_30d_rate", "churn 30 d", "pct"),
        Column("is_final", "final", "bool"),
        Column("is_churn_30d_final", "churn final", "bool"),
    ),
    print_rows=100,
    options={
        "panels": (
            ("fcr_rate", "First-contact resolution", "pct", "is_final"),
            ("repeat_contact_rate", "Repeat-contact rate", "pct", "is_final"),
            ("csat_rate", "CSAT (share scoring 4-5)", "pct", "is_final"),
            ("nps", "NPS", "float1", "is_final"),
            ("ces_mean", "CES (mean, 1-7, higher = easier)", "float1", "is_final"),
            ("churn_30d_rate", "Churn within 30 days after contact", "pct", "is_churn_30d_final"),
        )
    },
)

CONTACTS_PER_RESOLUTION = Chart(
    id="contacts_per_resolution",
    title="Contacts per resolution",
    how_to_read=(
        "How many contacts a resolved journey took, per day (1.0 = every resolution at the "
        "first contact). Rising means customers work harder to get an answer."
    ),
    tables=("daily_outcomes",),
    sql=f"""SELECT
    partition_date,
    {total("resolved_journeys")} AS resolved_journeys,
    {total("contacts_in_resolved_journeys")} AS contacts_in_resolved_journeys,
    {rate("contacts_in_resolved_journeys", "resolved_journeys")} AS contacts_per_resolution,
    bool_and(is_final) AS is_final
FROM {{daily_outcomes}}
WHERE {_IN_RANGE}
GROUP BY partition_date
ORDER BY partition_date""",
    draw="daily_line",
    columns=(
        Column("partition_date", "day", "date"),
        Column("resolved_journeys", "resolved journeys"),
        Column("contacts_in_resolved_journeys", "their contacts"),
        Column("contacts_per_resolution", "contacts per resolution", "float2"),
        Column("is_final", "final", "bool"),
    ),
    print_rows=100,
    options={"y": "contacts_per_resolution", "fmt": "float2", "final": "is_final"},
)

CHANNEL_SWITCHES = Chart(
    id="channel_switches",
    title="Channel switches",
    how_to_read=(
        "Rows: the channel a customer left; columns: the channel they came back on, within "
        "the same journey. Dark cells are the hand-offs that fail customers most often."
    ),
    tables=("daily_channel_switches",),
    sql=f"""SELECT
    from_channel,
    to_channel,
    {total("channel_switches")} AS channel_switches,
    {total("journeys")} AS journeys
FROM {{daily_channel_switches}}
WHERE {_IN_RANGE}
GROUP BY from_channel, to_channel
HAVING sum(channel_switches) > 0
ORDER BY channel_switches DESC, from_channel, to_channel""",
    draw="switch_matrix",
    columns=(
        Column("from_channel", "from", "text"),
        Column("to_channel", "to", "text"),
        Column("channel_switches", "switches"),
        Column("journeys", "journeys"),
    ),
)

TIME_TO_RESOLUTION = Chart(
    id="time_to_resolution",
    title="Time to resolution",
    how_to_read=(
        "Resolved journeys by how long they took, from the first contact's start to the last "
        "contact's end. Bars to the right of '3-7 d' are customers who waited most of a week."
    ),
    tables=("daily_time_to_resolution",),
    sql=f"""SELECT
    bucket_order,
    bucket,
    {total("resolved_journeys")} AS resolved_journeys
FROM {{daily_time_to_resolution}}
WHERE {_IN_RANGE}
GROUP BY bucket_order, bucket
ORDER BY bucket_order""",
    draw="bars",
    columns=(
        Column("bucket", "time to resolution", "text"),
        Column("resolved_journeys", "resolved journeys"),
    ),
    options={"x": "bucket", "y": "resolved_journeys"},
)

CHURN = Chart(
    id="churn_after_contact",
    title="Churn after resolved vs unresolved journeys",
    how_to_read=(
        "Share of customers who churned within 30 and 90 days after a journey ended, for "
        "journeys that were resolved and those that were not; hatched bars still have open "
        "churn windows. Revenue at risk is the MRR of customers whose journey failed."
    ),
    tables=("daily_churn_by_outcome",),
    sql=f"""SELECT
    journey_outcome,
    {total("journeys_ended")} AS journeys_ended,
    {total("churned_30d")} AS churned_30d,
    {rate("churned_30d", "journeys_ended")} AS churn_30d_rate,
    {total("churned_90d")} AS churned_90d,
    {rate("churned_90d", "journeys_ended")} AS churn_90d_rate,
    sum(mrr_at_stake) AS mrr_at_stake,
    sum(mrr_churned_90d) AS mrr_churned_90d,
    bool_and(is_churn_30d_final) AS is_churn_30d_final,
    bool_and(is_churn_90d_final) AS is_churn_90d_final
FROM {{daily_churn_by_outcome}}
WHERE {_IN_RANGE}
GROUP BY journey_outcome
ORDER BY journey_outcome""",
    draw="churn_bars",
    columns=(
        Column("journey_outcome", "journeys", "text"),
        Column("journeys_ended", "ended"),
        Column("churn_30d_rate", "churn 30 d", "pct"),
        Column("churn_90d_rate", "churn 90 d", "pct"),
        Column("mrr_at_stake", "MRR at stake (revenue at risk if unresolved)", "money"),
        Column("mrr_churned_90d", "MRR churned in 90 d", "money"),
        Column("is_churn_90d_final", "90-day windows closed", "bool"),
    ),
)

DATA_QUALITY = Chart(
    id="data_quality",
    title="Data quality: rows staged, quarantined and late",
    how_to_read=(
        "One panel per feed table and day: rows staged (bars, left axis), rows quarantined "
        "and rows staged late (lines, right axis). A quarantine spike means a delivery broke "
        "its contract; the blocking check stops the outcomes past the configured share."
    ),
    tables=("load_audit",),
    sql=f"""SELECT
    partition_date,
    feed,
    {total("rows_staged")} AS rows_staged,
    {total("rows_quarantined")} AS rows_quarantined,
    {total("rows_late")} AS rows_late
FROM {{load_audit}}
WHERE {_IN_RANGE}
GROUP BY partition_date, feed
ORDER BY feed, partition_date""",
    draw="feeds",
    columns=(
        Column("feed", "feed", "text"),
        Column("partition_date", "day", "date"),
        Column("rows_staged", "staged"),
        Column("rows_quarantined", "quarantined"),
        Column("rows_late", "late"),
    ),
    print_rows=50,
)

# Only the reason codes and counts are read: the quarantine tables also hold the raw rows.
_REASONS = "\nUNION ALL\n".join(
    f"SELECT partition_date, '{name}' AS feed, reason_code FROM {{quarantine_{name}}} "
    f"WHERE {_IN_RANGE}"
    for name in CONTRACTS
)

QUARANTINE_REASONS = Chart(
    id="quarantine_reasons",
    title="Quarantined rows by reason",
    how_to_read=(
        "Rows that could not be staged, per day, by feed table and reason code (a row failing "
        "two rules shows both codes). Fix the source, then restage the day."
    ),
    tables=tuple(f"quarantine_{name}" for name in CONTRACTS),
    sql=f"""SELECT partition_date, feed, reason_code, count(*) AS rows_quarantined
FROM (
{_REASONS}
) AS quarantined
GROUP BY partition_date, feed, reason_code
ORDER BY partition_date, feed, reason_code""",
    draw="reasons",
    columns=(
        Column("partition_date", "day", "date"),
        Column("feed", "feed", "text"),
        Column("reason_code", "reason", "text"),
        Column("rows_quarantined", "rows"),
    ),
    print_rows=50,
)

# The figures at the top of the page (tiles, not a picture): the range's outcomes at a glance.
SUMMARY = Chart(
    id="summary",
    title="At a glance",
    how_to_read=(
        "The whole range: outcome rates over every team and channel, from summed numerators "
        "and denominators; 'provisional days' can still move."
    ),
    tables=("daily_outcomes",),
    sql=f"""SELECT
    {total("journeys_ended")} AS journeys_ended,
    {rate("fcr_journeys", "journeys_ended")} AS fcr_rate,
    {rate("resolved_journeys", "journeys_ended")} AS resolution_rate,
    {rate("repeat_contacts", "contacts")} AS repeat_contact_rate,
    {rate("false_resolutions", "resolved_claims")} AS false_resolution_rate,
    {rate("csat_satisfied", "csat_responses")} AS csat_rate,
    sum(revenue_at_risk) AS revenue_at_risk,
    CAST(count(DISTINCT CASE WHEN NOT is_final THEN partition_date END) AS BIGINT)
        AS provisional_days
FROM {{daily_outcomes}}
WHERE {_IN_RANGE}""",
    draw="",
    columns=(
        Column("fcr_rate", "first-contact resolution", "pct"),
        Column("resolution_rate", "journeys resolved", "pct"),
        Column("repeat_contact_rate", "repeat contacts", "pct"),
        Column("false_resolution_rate", "false resolutions", "pct"),
        Column("csat_rate", "CSAT (4-5)", "pct"),
        Column("revenue_at_risk", "revenue at risk (MRR)", "money"),
        Column("journeys_ended", "journeys ended"),
        Column("provisional_days", "provisional days"),
    ),
)

CHARTS: tuple[Chart, ...] = (
    TEAMS,
    AGENTS,
    TRENDS,
    CONTACTS_PER_RESOLUTION,
    CHANNEL_SWITCHES,
    TIME_TO_RESOLUTION,
    CHURN,
    DATA_QUALITY,
    QUARANTINE_REASONS,
)
HEADLINE = TEAMS.id


def chart_sql(chart: Chart, qualify) -> str:
    """The chart's SQL with each ``{table}`` replaced by ``qualify(table)``."""
    names = {t for c in (SUMMARY, *CHARTS) for t in c.tables} | {"load_audit"}
    return chart.sql.format(**{n: qualify(n) for n in names})
