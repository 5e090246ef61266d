"""Import Great Expectations once per session, as setup, so no single test carries its ~3-4 s."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def gx_imported() -> float:
    from outcome_pipeline.validation import gx_run

    return gx_run.import_seconds()
