"""Run the GX suite of record on an Arrow table and turn the results into engine-neutral data.

One ephemeral context per process, created on first use (GX import ~3-4 s, context ~0.3 s),
with progress bars off (tqdm lines would otherwise land in every Dagster compute log). The
pandas datasource, dataframe asset and whole-dataframe batch definition are reused; each call
passes its frame as a batch parameter. Suites are built per call and never saved, so nothing
(no raw values) is persisted by GX: results are parsed here into counts and row positions.

The frame's index carries the row's position in the caller's Arrow table, so
``unexpected_index_list`` (result format COMPLETE, no id columns) *is* the list of positions,
also when validating a subset of rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from outcome_pipeline.validation import rules as R
from outcome_pipeline.validation.messages import column_diff
from outcome_pipeline.validation.suites import build_suite

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

_LOCK = threading.RLock()  # one shared context: create and run under a lock
_RUNTIME: dict[str, Any] = {}


# Rules about the frame's shape (its columns, their dtypes; an object column's values too):
# they run on the whole frame.
SHAPE_KINDS = (R.COLUMNS, R.TYPE)


class GxValidationError(RuntimeError):
    """GX could not evaluate an expectation (it raised inside the validation)."""


@dataclass(frozen=True)
class GxResult:
    """One expectation's result, without values: success, counts, failing row positions."""

    rule: str
    success: bool
    unexpected_count: int
    element_count: int
    positions: np.ndarray  # row positions in the caller's table (row-level, COMPLETE only)
    observed: str | None = None


def import_seconds() -> float:
    """Import GX now if needed; return how long that took (0.0 when already imported)."""
    if "gx" in _RUNTIME:
        return 0.0
    start = time.perf_counter()
    import great_expectations as gx

    _RUNTIME["gx"] = gx
    return time.perf_counter() - start


def _skip_fingerprint() -> bool:
    """Stop GX from hashing the whole frame on every batch (2 x ~1.4 s per 1M-row validate).

    GX 1.24 computes a ``pandas_data_fingerprint`` batch marker (``hash_pandas_object`` of
    every column) for frames below ``HASH_THRESHOLD`` bytes, twice per ``Batch.validate``
    (``get_batch`` and again in ``get_validator``). The marker is informational metadata; GX
    already skips it for frames >= 1 GB. Setting the threshold to 0 makes GX skip it always.
    Returns whether the knob exists (a test pins it, so a GX upgrade that drops it is seen).
    """
    from great_expectations.execution_engine import pandas_execution_engine as engine

    if not hasattr(engine, "HASH_THRESHOLD"):
        return False
    engine.HASH_THRESHOLD = 0
    return True


def gx_module() -> Any:
    """The ``great_expectations`` module, imported on first use."""
    import_seconds()
    return _RUNTIME["gx"]


def new_context() -> Any:
    """An ephemeral context without progress bars and without GX's default temp docs site.

    (``get_context(mode="ephemeral")`` alone creates a throwaway temp directory per call for
    a default Data Docs site we never use.)
    """
    gx = gx_module()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    )
    ctx = gx.get_context(mode="ephemeral", project_config=config)
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


def _batch_definition() -> Any:
    with _LOCK:
        return _create_batch_definition()


def _create_batch_definition() -> Any:
    if "bd" not in _RUNTIME:
        _RUNTIME["fingerprint_skipped"] = _skip_fingerprint()
        ctx = new_context()
        source = ctx.data_sources.add_pandas("outcome_pipeline_validation")
        asset = source.add_dataframe_asset("day")
        _RUNTIME["ctx"] = ctx
        _RUNTIME["bd"] = asset.add_batch_definition_whole_dataframe("frame")
    return _RUNTIME["bd"]


def to_frame(table: pa.Table, positions: np.ndarray | None = None) -> pd.DataFrame:
    """Arrow -> pandas for GX: nullable Int64/boolean (no float coercion), index = positions."""
    import pandas as pd

    mapping = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    frame = table.to_pandas(types_mapper=mapping.get)
    if positions is not None:
        frame.index = pd.Index(positions, dtype="int64")
    return frame


def columns_read(rule: R.Rule) -> tuple[str, ...]:
    """The frame columns GX reads to evaluate ``rule`` (a shape rule reads the frame's shape)."""
    if rule.kind == R.UNIQUE_WITHIN:
        return tuple(rule.values)
    return rule.columns_used


def run_rules(
    frame: pd.DataFrame, rules: Sequence[R.Rule], suite_name: str, *, complete: bool
) -> dict[str, GxResult]:
    """Validate ``frame`` against the expectations of ``rules``; results keyed by rule name.

    ``complete`` asks for ``unexpected_index_list`` (row positions) - needed for row-level
    rules only; dataset-level rules run with SUMMARY.

    The shape rules (columns, types) run on ``frame`` itself; the value rules on the columns
    they read only (the same rows, the same index). GX's pandas engine drops a column's
    missing rows, and selects the failing ones, by indexing the *whole* frame, once or twice
    per expectation: on a 1M-row day of 22 columns (13 of them Arrow-backed strings) those
    copies of columns no rule of the suite reads were most of GX's time.
    """
    if not rules:
        return {}
    shape = [r for r in rules if r.kind in SHAPE_KINDS]
    values = [r for r in rules if r.kind not in SHAPE_KINDS]
    read = dict.fromkeys(c for r in values for c in columns_read(r))
    # A column missing from the frame stays missing: GX reports it as it did on the whole frame.
    narrow = frame[[c for c in frame.columns if c in read]]
    out: dict[str, GxResult] = {}
    for part, part_frame in ((shape, frame), (values, narrow)):
        if part:
            out.update(_validate(part_frame, part, suite_name, complete=complete))
    missing = {r.name for r in rules} - set(out)
    if missing:
        raise GxValidationError(f"GX returned no result for {sorted(missing)}")
    return out


def _validate(
    frame: pd.DataFrame, rules: Sequence[R.Rule], suite_name: str, *, complete: bool
) -> dict[str, GxResult]:
    bd = _batch_definition()
    suite = build_suite(suite_name, rules)
    result_format: dict[str, Any] = {
        "result_format": "COMPLETE" if complete else "SUMMARY",
        "partial_unexpected_count": 0,
        # Not the query string listing every failing index (we read the index list itself):
        # GX filters the whole frame once more per expectation to build it.
        "return_unexpected_index_query": False,
    }
    with _LOCK:
        batch = bd.get_batch(batch_parameters={"dataframe": frame})
        res = batch.validate(suite, result_format=result_format)
    by_rule = {r.name: r for r in rules}
    out: dict[str, GxResult] = {}
    for r in res.results:
        name = (r.expectation_config.meta or {}).get("rule")
        rule = by_rule[name]
        info = r.exception_info or {}
        if info.get("raised_exception"):
            raise GxValidationError(
                f"GX failed to evaluate {name} ({r.expectation_config.type}): "
                f"{info.get('exception_message')}"
            )
        result = r.result or {}
        index = result.get("unexpected_index_list") if complete else None
        positions = np.asarray(index if index is not None else [], dtype=np.int64)
        out[name] = GxResult(
            rule=name,
            success=bool(r.success),
            unexpected_count=int(result.get("unexpected_count") or 0),
            element_count=int(_first(result.get("element_count"), len(frame))),
            positions=positions,
            observed=_observed(rule, result.get("observed_value")),
        )
    return out


def _first(*values: Any) -> Any:
    return next(v for v in values if v is not None)


def _observed(rule: R.Rule, value: object) -> str | None:
    """A value-free rendering of ``observed_value`` (shape facts only, never data)."""
    if rule.kind == R.COLUMNS and isinstance(value, list):
        return column_diff([str(c) for c in value], rule.values)
    if rule.kind == R.TYPE and value is not None:
        return str(value)
    return None
