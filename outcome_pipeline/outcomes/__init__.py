"""Journeys and daily outcome tables: the pure core (no Dagster).

``compute_outcomes(inputs, days, as_of, cfg)`` turns staged feeds into the tables of
``OUTCOME_TABLES``; ``input_window`` says which staged days it needs. Definitions of every
table and column live in the TableDefs (``tables.py``); identity rules in ``identity.py``.
"""

from outcome_pipeline.outcomes.compute import ComputedOutcomes, compute_outcomes, computed_outcomes
from outcome_pipeline.outcomes.config import (
    HISTORY_INPUTS,
    InputWindow,
    OutcomeConfig,
    input_window,
    pseudonym_key_from_env,
)
from outcome_pipeline.outcomes.inputs import (
    ATTACHED,
    CONTEXT_SCHEMA,
    AttachedInputs,
    OutcomeInputs,
    StreamedInputs,
    input_schema,
)
from outcome_pipeline.outcomes.tables import LIFETIME_VIEW_SQL, OUTCOME_TABLES, RATES
from outcome_pipeline.outcomes.warehouse_selects import context_sql, input_selects
from outcome_pipeline.outcomes.zoning import Zones, zones

__all__ = [
    "ATTACHED",
    "CONTEXT_SCHEMA",
    "HISTORY_INPUTS",
    "LIFETIME_VIEW_SQL",
    "OUTCOME_TABLES",
    "RATES",
    "AttachedInputs",
    "ComputedOutcomes",
    "InputWindow",
    "OutcomeConfig",
    "OutcomeInputs",
    "StreamedInputs",
    "Zones",
    "compute_outcomes",
    "computed_outcomes",
    "context_sql",
    "input_schema",
    "input_selects",
    "input_window",
    "pseudonym_key_from_env",
    "zones",
]
