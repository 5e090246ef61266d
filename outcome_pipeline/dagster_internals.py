"""Every private Dagster name the project relies on, in one place.

Dagster has no public equivalent for these (checked in the pinned version, pyproject.toml);
``outcome_pipeline_tests/test_dagster_internals.py`` imports each one and fails loudly with
this list when an upgrade moves or removes any of them. Anything public goes through
``import dagster as dg`` instead.
"""

from __future__ import annotations

# How `dagster dev` reads `<cwd>/.env`: the CLI reads the same file the same way.
from dagster._core.secrets.env_file import get_env_var_dict

# Previous fire times of a cron schedule: the nightly plan walks back over missed ticks.
from dagster._utils.schedules import reverse_cron_string_iterator

# Pinned together with these names; the test compares it with the installed version.
CHECKED_WITH_DAGSTER = "1.13.27"

__all__ = ["CHECKED_WITH_DAGSTER", "get_env_var_dict", "reverse_cron_string_iterator"]
