"""Every outcome table, by name: the one place their columns and definitions live.

The comments feed the data dictionary and the warehouse column comments; the SQL in ``sql/``
computes exactly these columns, and ``compute_outcomes`` checks it.
"""

from __future__ import annotations

from outcome_pipeline.outcomes.columns import rate_parts
from outcome_pipeline.outcomes.daily_tables import (
    DAILY_AGENT_OUTPUT_VS_OUTCOME,
    DAILY_OUTCOMES,
    DAILY_OUTPUTS,
)
from outcome_pipeline.outcomes.distribution_tables import (
    DAILY_CHANNEL_SWITCHES,
    DAILY_CHURN_BY_OUTCOME,
    DAILY_TIME_TO_RESOLUTION,
)
from outcome_pipeline.outcomes.journey_tables import (
    CUSTOMER_OUTCOMES,
    JOURNEY_CONTACTS,
    JOURNEYS,
    LIFETIME_VIEW_SQL,
)
from outcome_pipeline.warehouse.tables import TableDef

OUTCOME_TABLES: dict[str, TableDef] = {
    t.name: t
    for t in (
        JOURNEYS,
        JOURNEY_CONTACTS,
        DAILY_OUTCOMES,
        DAILY_OUTPUTS,
        DAILY_AGENT_OUTPUT_VS_OUTCOME,
        CUSTOMER_OUTCOMES,
        DAILY_CHANNEL_SWITCHES,
        DAILY_TIME_TO_RESOLUTION,
        DAILY_CHURN_BY_OUTCOME,
    )
}

# {table: {rate column: (numerator column, denominator column)}}: for summaries and checks.
RATES: dict[str, dict[str, tuple[str, str]]] = {
    name: rate_parts(table) for name, table in OUTCOME_TABLES.items()
}

__all__ = ["LIFETIME_VIEW_SQL", "OUTCOME_TABLES", "RATES"]
