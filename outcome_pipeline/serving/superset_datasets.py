"""The datasets of the Superset starter dashboard and their metrics (part of the catalog,
``superset_catalog.py``). A rate is always a metric ``sum(numerator) / sum(denominator)`` from
``RATES``, never an average of rates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from outcome_pipeline.outcomes import OUTCOME_TABLES, RATES
from outcome_pipeline.serving.publish import BI_TABLES
from outcome_pipeline.warehouse.tables import check_identifier


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
