"""Validate one table's rows for one business day: which rows to quarantine, does the day pass.

Engines (``engine=``):

* ``"gx"`` - GX decides everything: the full row-level suite (result format COMPLETE, row
  positions from ``unexpected_index_list``) and the dataset-level suite on the whole day.
* ``"precheck"`` - the vectorised Arrow masks of :mod:`.precheck` decide everything; GX is not
  imported. For tests, tools and emergencies.
* ``"auto"`` (default) - the precheck decides row failures; GX runs the dataset-level suite
  on the whole day and *confirms* the row-level verdicts on a sample: every flagged row (up
  to ``confirm_rows``) plus ``confirm_rows`` random unflagged rows (seeded by table and day,
  so reruns are identical). GX and the precheck must flag exactly the same (row, rule) pairs
  on that sample. If they do not, the disagreement is recorded in ``v.disagreements`` and GX
  re-runs the row-level suite on the whole day and *its* verdict is used. GX therefore stays
  the suite of record; the precheck only saves time while it provably agrees.

Why auto - measured with ``benchmarks/validation_bench.py`` on a synthetic 1M-row
interactions day (1% defective rows, 50 expectations: 24 row-level, 26 dataset-level), on
the shared 2-vCPU dev box (range of runs; GX import 3.3-4.2 s, paid once per process, is
not included):

==========  ===========  ============  ==========
engine      GX s         precheck s    total s
==========  ===========  ============  ==========
precheck    -            0.6-0.95      0.7-1.2
auto        1.1-2.0      0.3-0.5       1.8-3.0
gx          8.6-12.4     -             8.7-12.7
==========  ===========  ============  ==========

A generated, staged Friday (``--source generator``: 1.05M rows, 0.5% quarantined) gave
precheck 0.96 s, auto 1.97 s (GX 1.41 s), gx 16.3 s. In auto,
GX spends ~0.15 s on Arrow -> pandas, ~0.5 s on the dataset-level suite over the whole day
(the unique-key check dominates) and ~0.65 s on the 20k-row confirmation; the full GX
row-level suite costs ~7-15 s per 1M rows (nullable columns are the slow ones). The numbers
assume GX's per-batch data fingerprint is off (:func:`gx_run._skip_fingerprint`); with it,
every GX validate of a 1M-row frame costs ~2.9 s more (auto 4.6 s, gx 13.2 s).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from outcome_pipeline.contracts.feeds import TableContract
from outcome_pipeline.validation import precheck as P
from outcome_pipeline.validation import rules as R
from outcome_pipeline.validation.config import ValidationConfig
from outcome_pipeline.validation.messages import row_message
from outcome_pipeline.validation.suites import expectation_type

Engine = Literal["auto", "gx", "precheck"]
ENGINES: tuple[str, ...] = ("auto", "gx", "precheck")
DEFAULT_CONFIRM_ROWS = 10_000
_NOT_EVALUATED = "not evaluated"


@dataclass(frozen=True)
class RowFailure:
    """One failed row-level rule of one row. ``message`` never carries a PII value."""

    code: str
    expectation: str  # rule name, also the GX expectation's meta["rule"]
    column: str | None
    message: str


@dataclass(frozen=True)
class ExpectationOutcome:
    """How one expectation did on the day: counts and a message, never raw values."""

    name: str
    type: str  # GX expectation type, e.g. expect_column_values_to_be_in_set
    column: str | None
    severity: str  # "error" | "warning"
    level: str  # "row" | "dataset"
    success: bool
    unexpected_count: int
    element_count: int
    message: str
    code: str | None = None  # reason code of a row-level rule
    engine: str = "gx"  # who computed these counts: "gx" or "precheck"
    observed: str | None = None  # dataset-level shape facts (dtype, column names, row count)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class DayValidation:
    """Result of :func:`validate_day` for one table and one business day."""

    table: str
    day: date
    timezone: str
    engine: str
    num_rows: int
    # Large per-row fields stay out of repr (a 1M-row day would flood logs and test output).
    row_failures: dict[int, list[RowFailure]] = field(repr=False)
    failed_mask: np.ndarray = field(repr=False)
    expectations: list[ExpectationOutcome] = field(repr=False)
    success: bool = True
    gx_seconds: float = 0.0
    precheck_seconds: float = 0.0
    gx_import_seconds: float = 0.0
    # Row-level *warning* rules (e.g. malformed email): reported, never quarantined.
    row_warnings: dict[int, list[RowFailure]] = field(default_factory=dict, repr=False)
    # auto engine: rows GX re-checked and any (row, rule) the two engines disagreed on.
    confirmed_rows: int = 0
    disagreements: list[str] = field(default_factory=list)
    # Row-level failures no flagged row explains (see unexplained_failures): the day fails.
    unexplained: list[str] = field(default_factory=list)
    rules: list[R.Rule] = field(default_factory=list, repr=False)

    @property
    def rows_failed(self) -> int:
        return int(self.failed_mask.sum())

    @property
    def failed_expectations(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]

    def quarantine_reasons(self) -> pa.Table:
        """``row`` (position in the validated table), ``reason_code``, ``message`` per failed row.

        Same shape as ingest.conform's rejects: codes sorted and comma-joined, messages
        ``"<code>: <message>"`` joined with ``"; "``.
        """
        rows = sorted(self.row_failures)
        codes = [",".join(sorted({f.code for f in self.row_failures[i]})) for i in rows]
        messages = ["; ".join(f"{f.code}: {f.message}" for f in self.row_failures[i]) for i in rows]
        return pa.table(
            {
                "row": pa.array(rows, pa.int64()),
                "reason_code": pa.array(codes, pa.string()),
                "message": pa.array(messages, pa.string()),
            }
        )


def validate_day(
    rows: pa.Table,
    contract: TableContract,
    day: date,
    timezone: str,
    engine: Engine | str = "auto",
    known_ids: Mapping[str, Iterable[Any] | pa.Array] | None = None,
    *,
    confirm_rows: int = DEFAULT_CONFIRM_ROWS,
    cfg: ValidationConfig | None = None,
) -> DayValidation:
    """Validate the typed, deduplicated rows of ``contract`` delivered for ``day``.

    ``rows`` holds the contract columns (contract types) plus lineage columns
    (``_source_file``/``_source_line``, or staging's ``source_file``/``source_line``/
    ``partition_date``), which are ignored. ``known_ids`` optionally maps a column to the ids
    it may reference (e.g. ``{"interaction_id": ids}``); a given id outside the set fails the
    row with ``unknown_reference``. ``cfg``: the plausibility floor and ceiling.

    A row-level expectation that fails without flagging a single row (GX does so when it
    cannot evaluate an expectation) cannot be explained by quarantined rows: the day fails
    (``unexplained``), it never passes silently.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    plan = _plan(rows, contract, day, timezone, known_ids, cfg)
    n = plan.table.num_rows
    v = DayValidation(
        table=contract.name,
        day=day,
        timezone=timezone,
        engine=engine,
        num_rows=n,
        row_failures={},
        failed_mask=np.zeros(n, dtype=bool),
        expectations=[],
        success=True,
        rules=plan.rules,
    )
    verdict = _Verdict()
    if engine in ("precheck", "auto"):
        start = time.perf_counter()
        _run_precheck(plan, verdict, dataset_level=engine == "precheck")
        v.precheck_seconds = time.perf_counter() - start
    if engine in ("gx", "auto"):
        _run_gx(plan, verdict, v, confirm_rows=confirm_rows if engine == "auto" else None)

    not_evaluated = P.Counts(False, 0, n, observed=f"{_NOT_EVALUATED}: column missing or mistyped")
    _conclude(v, plan, verdict, not_evaluated)
    return v


def _conclude(v: DayValidation, plan: _Plan, verdict: _Verdict, not_evaluated: P.Counts) -> None:
    """The day's row failures, one outcome per rule (``not_evaluated`` where no engine counted
    it) and the verdict: a day succeeds when no error-level dataset rule failed and no failure
    is unexplained. Shared by the per-day and the per-range validation."""
    _collect_row_failures(v, plan.table, plan.row_rules, verdict.masks)
    for rule in plan.rules:
        if rule.level == "row":
            counts, by = verdict.row_counts.get(rule.name, not_evaluated), verdict.row_engine
        else:
            counts, by = verdict.ds_counts.get(rule.name, not_evaluated), verdict.ds_engine
        v.expectations.append(_outcome(rule, counts, by))
    v.unexplained = unexplained_failures(v.expectations)
    v.success = not v.unexplained and not any(
        e.level == "dataset" and e.severity == "error" and not e.success for e in v.expectations
    )


def unexplained_failures(expectations: Iterable[ExpectationOutcome]) -> list[str]:
    """Row-level error expectations that failed while flagging no row: their failure is not
    in the quarantine, so the day must fail rather than pass with nothing quarantined. Rules
    not evaluated (their column missing or mistyped) are left out: the columns and type
    expectations already fail the day for them."""
    return [
        f"{e.name} failed with no row flagged ({e.engine} could not evaluate it); the "
        "day cannot pass: check the rule's bounds (e.g. a day before OUTCOME_PLAUSIBLE_FROM)"
        for e in expectations
        if e.level == "row"
        and e.severity == "error"
        and not e.success
        and not e.unexpected_count
        and not (e.observed or "").startswith(_NOT_EVALUATED)
    ]


@dataclass
class _Plan:
    """The day's table without lineage, its rules, and which rules can be evaluated on it."""

    table: pa.Table
    rules: list[R.Rule]
    row_rules: list[R.Rule]
    dataset_rules: list[R.Rule]


@dataclass
class _Verdict:
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    row_counts: dict[str, P.Counts] = field(default_factory=dict)
    ds_counts: dict[str, P.Counts] = field(default_factory=dict)
    row_engine: str = "gx"
    ds_engine: str = "gx"


def _plan(
    rows: pa.Table,
    contract: TableContract,
    day: date,
    timezone: str,
    known_ids: Mapping[str, Iterable[Any] | pa.Array] | None,
    cfg: ValidationConfig | None = None,
) -> _Plan:
    """Rules need their columns (value rules: in the contract type). Rules that cannot be
    evaluated are reported as failed; the day then fails on the columns/type expectations."""
    rules = R.rules_for(contract, day, timezone, known_ids, cfg)
    table = rows.drop_columns([c for c in rows.column_names if c in R.LINEAGE_COLUMNS])
    present = set(table.column_names)
    typed = {c.name for c in contract.columns if c.name in present}
    typed = {c for c in typed if table.schema.field(c).type == contract.column(c).type}

    def evaluable(rule: R.Rule) -> bool:
        needs_value = rule.kind in (R.IN_SET, R.BETWEEN, R.ORDER, R.REGEX)
        return set(rule.columns_used) <= (typed if needs_value else present)

    return _Plan(
        table=table,
        rules=rules,
        row_rules=[r for r in rules if r.level == "row" and evaluable(r)],
        dataset_rules=[r for r in rules if r.level == "dataset" and evaluable(r)],
    )


def _run_precheck(plan: _Plan, verdict: _Verdict, *, dataset_level: bool) -> None:
    for rule in plan.row_rules:
        verdict.masks[rule.name] = mask = P.row_mask(rule, plan.table)
        verdict.row_counts[rule.name] = P.row_counts(rule, plan.table, mask)
    verdict.row_engine = "precheck"
    if dataset_level:
        verdict.ds_counts = {r.name: P.dataset_counts(r, plan.table) for r in plan.dataset_rules}
        verdict.ds_engine = "precheck"


def _run_gx(plan: _Plan, verdict: _Verdict, v: DayValidation, *, confirm_rows: int | None) -> None:
    """Dataset-level suite on the whole day; row-level suite on the whole day (``gx``) or
    on a confirmation sample (``auto``), falling back to the whole day on disagreement."""
    from outcome_pipeline.validation import gx_run

    v.gx_import_seconds = gx_run.import_seconds()
    start = time.perf_counter()
    table, name, n = plan.table, v.table, plan.table.num_rows
    frame = gx_run.to_frame(table)
    ds = gx_run.run_rules(frame, plan.dataset_rules, f"{name}_dataset", complete=False)
    verdict.ds_counts = {
        k: P.Counts(g.success, g.unexpected_count, g.element_count, g.observed)
        for k, g in ds.items()
    }
    verdict.ds_engine = "gx"
    if confirm_rows is not None:
        confirm = _confirmation_rows(verdict.masks, n, confirm_rows, name, v.day)
        v.confirmed_rows = len(confirm)
        sub = gx_run.to_frame(table.take(pa.array(confirm, pa.int64())), confirm)
        got = gx_run.run_rules(sub, plan.row_rules, f"{name}_confirm", complete=True)
        v.disagreements = _disagreements(plan.row_rules, verdict.masks, got, confirm)
    if confirm_rows is None or v.disagreements:
        got = gx_run.run_rules(frame, plan.row_rules, f"{name}_rows", complete=True)
        for rule in plan.row_rules:
            g = got[rule.name]
            mask = np.zeros(n, dtype=bool)
            mask[g.positions] = True
            verdict.masks[rule.name] = mask
            verdict.row_counts[rule.name] = P.Counts(g.success, g.unexpected_count, g.element_count)
        verdict.row_engine = "gx"
    v.gx_seconds = time.perf_counter() - start


def _confirmation_rows(
    masks: Mapping[str, np.ndarray], n: int, limit: int, table: str, day: date
) -> np.ndarray:
    """Flagged rows (up to ``limit``) plus ``limit`` random clean rows, sorted positions."""
    flagged = np.zeros(n, dtype=bool)
    for mask in masks.values():
        flagged |= mask
    rng = np.random.default_rng([zlib.crc32(table.encode()), day.toordinal()])
    bad = np.flatnonzero(flagged)
    good = np.flatnonzero(~flagged)
    if len(bad) > limit:
        bad = rng.choice(bad, size=limit, replace=False)
    if len(good) > limit:
        good = rng.choice(good, size=limit, replace=False)
    return np.sort(np.concatenate([bad, good])).astype(np.int64)


def _disagreements(
    rules: Iterable[R.Rule],
    masks: Mapping[str, np.ndarray],
    got: Mapping[str, Any],
    positions: np.ndarray,
) -> list[str]:
    out = []
    for rule in rules:
        pre = set(positions[masks[rule.name][positions]].tolist())
        gx = set(got[rule.name].positions.tolist())
        if pre != gx:
            only_pre, only_gx = sorted(pre - gx)[:5], sorted(gx - pre)[:5]
            out.append(
                f"{rule.name}: precheck-only rows {only_pre} ({len(pre - gx)}), "
                f"gx-only rows {only_gx} ({len(gx - pre)})"
            )
    return out


def _collect_row_failures(
    v: DayValidation, table: pa.Table, rules: Iterable[R.Rule], masks: Mapping[str, np.ndarray]
) -> None:
    """Turn masks into per-row failures, in rule order (deterministic across engines)."""
    for rule in rules:
        mask = masks[rule.name]
        positions = np.flatnonzero(mask)
        if len(positions) == 0:
            continue
        target = v.row_failures if rule.severity == "error" else v.row_warnings
        needs_value = rule.kind in (R.IN_SET, R.BETWEEN) and not rule.pii
        values: list[Any] = (
            table[rule.column].take(pa.array(positions)).to_pylist()
            if needs_value
            else [None] * len(positions)
        )
        for pos, value in zip(positions.tolist(), values, strict=True):
            failure = RowFailure(rule.code or "", rule.name, rule.column, row_message(rule, value))
            target.setdefault(pos, []).append(failure)
        if rule.severity == "error":
            v.failed_mask |= mask
    # Keep dict order by row position: quarantine output is stable and readable.
    v.row_failures = dict(sorted(v.row_failures.items()))
    v.row_warnings = dict(sorted(v.row_warnings.items()))


def _outcome(rule: R.Rule, counts: P.Counts, engine: str) -> ExpectationOutcome:
    if rule.level == "dataset" and rule.kind in (R.COLUMNS, R.TYPE):
        detail = f"observed {counts.observed}" if counts.observed else ""
    elif counts.unexpected_count:
        detail = f"{counts.unexpected_count} of {counts.element_count} rows fail"
    else:
        detail = f"all {counts.element_count} rows pass"
    status = "passed" if counts.success else "FAILED"
    return ExpectationOutcome(
        name=rule.name,
        type=expectation_type(rule),
        column=rule.column,
        severity=rule.severity,
        level=rule.level,
        success=counts.success,
        unexpected_count=counts.unexpected_count,
        element_count=counts.element_count,
        message=f"{status}: {rule.description}" + (f"; {detail}" if detail else ""),
        code=rule.code,
        engine=engine,
        observed=counts.observed,
    )
