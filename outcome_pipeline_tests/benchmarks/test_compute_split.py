"""The benchmark's two timed halves of ``compute_outcomes`` (``pipeline_stages._compute_split``)
are the real computation split in two, not a fallback: on the hand-computed fixture they
time "identity + journeys" then "daily tables" and return exactly ``compute_outcomes``' rows.
If the step runner changes (a step renamed or moved), the harness would silently time
``compute_outcomes`` whole; this test fails instead, naming what to adapt."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks import pipeline_stages as ps
from outcome_pipeline.outcomes import OutcomeConfig, compute_outcomes
from outcome_pipeline_tests.outcomes import fixture as fx

AS_OF = fx.lt("06-25 00:00")


def test_the_split_times_both_halves_and_returns_compute_outcomes_rows() -> None:
    measured: list[tuple[str, str, dict[str, object]]] = []

    @contextmanager
    def measure(name: str, engine: str, **kwargs: object) -> Iterator[None]:
        measured.append((name, engine, kwargs))
        yield

    cfg = OutcomeConfig()
    by_relation: dict[str, float] = {}
    split = ps._compute_split(fx.inputs(), fx.DAYS, AS_OF, cfg, measure, 7, by_relation)
    notes = [kwargs.get("note") for _, _, kwargs in measured]
    assert ps.WHOLE_NOTE not in notes, (
        f"pipeline_stages fell back to timing compute_outcomes whole: is {ps.DAILY_STEP!r} "
        "still a relation of outcomes/relations.py?"
    )
    assert [(name, engine) for name, engine, _ in measured] == [
        ("identity + journeys", "pipeline"),
        ("daily tables", "pipeline"),
    ]
    assert all(kwargs["rows"] == 7 for _, _, kwargs in measured)
    assert ps.DAILY_STEP in by_relation and all(s >= 0 for s in by_relation.values())
    whole = compute_outcomes(fx.inputs(), fx.DAYS, AS_OF, cfg)
    assert list(split) == list(whole)
    for name, table in whole.items():
        assert table.num_rows > 0, name
        assert split[name].equals(table), name
