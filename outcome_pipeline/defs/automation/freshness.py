"""Freshness of what BI reads: was it served by morning?

A cron freshness policy (Dagster 1.13's ``FreshnessPolicy``, which supersedes the
``build_last_update_freshness_checks`` helpers): the asset must have been materialized between
``deadline - lower_bound_delta`` and the deadline, 02:00-06:00 business time by default
(``OUTCOME_FRESHNESS_DEADLINE_CRON``), which leaves the 02:30 nightly run three and a half
hours including retries. ``bi_views`` carries it: it is materialized last in every run that
writes the outcome tables, and only when they succeeded, so a stale ``bi_views`` means BI is
showing an old night. The UI shows the state (Fresh / Failed) on the asset and in Asset health;
the daemon evaluates it when the instance enables ``freshness`` (deploy/dagster.yaml).
"""

import os
from datetime import timedelta

import dagster as dg

from outcome_pipeline.settings import Settings

FRESHNESS_DEADLINE_CRON = os.environ.get("OUTCOME_FRESHNESS_DEADLINE_CRON", "0 6 * * *")

SERVED_BY_MORNING = dg.FreshnessPolicy.cron(
    deadline_cron=FRESHNESS_DEADLINE_CRON,
    lower_bound_delta=timedelta(hours=4),
    timezone=Settings.from_env().timezone,
)
