"""Days are written as they complete: fed per batch, the files match delivering it whole."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from outcome_pipeline.contracts.feeds import CASES, INTERACTIONS
from outcome_pipeline.generator import GenerationReport, GeneratorConfig
from outcome_pipeline.generator.cases import case_keys, case_rows
from outcome_pipeline.generator.delivery import DayQueue, deliver_table
from outcome_pipeline.generator.interactions import interaction_rows
from outcome_pipeline.generator.journeys import JourneySimulator
from outcome_pipeline.generator.population import build_population
from outcome_pipeline.generator.timeutil import BusinessClock, epoch_day


def _batches(cfg: GeneratorConfig) -> dict[str, list[pa.Table]]:
    clock = BusinessClock(cfg.timezone)
    start, end = epoch_day(cfg.start), epoch_day(cfg.start) + cfg.days
    pop = build_population(cfg, clock)
    sim = JourneySimulator(cfg, pop, clock)
    out: dict[str, list[pa.Table]] = {"interactions": [], "cases": []}
    for day in range(start - cfg.warmup_days, end):
        batch = sim.simulate(day)
        has, first = case_keys(batch)
        queued = clock.local_day(batch.legs["queued"])
        kept = (queued >= start) & (queued < end)
        out["interactions"].append(
            interaction_rows(cfg.seed, batch, pop, clock, has, first, kept)[0]
        )
        out["cases"].append(case_rows(batch, pop, clock, has, first, start, end))
    return out


def _hashes(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def test_day_queue_matches_whole_table_delivery(tmp_path: Path) -> None:
    settings = dict(start=date(2024, 3, 29), days=4, interactions_per_day=800, seed=3)
    whole = GeneratorConfig(out_dir=tmp_path / "whole", defect_rate=0.03, **settings)
    streamed = GeneratorConfig(out_dir=tmp_path / "streamed", defect_rate=0.03, **settings)
    clock = BusinessClock(whole.timezone)
    start, end = epoch_day(whole.start), epoch_day(whole.start) + whole.days
    tables = _batches(whole)
    reports = GenerationReport(config={}), GenerationReport(config={})
    for contract in (INTERACTIONS, CASES):
        parts = tables[contract.name]
        deliver_table(whole, contract, pa.concat_tables(parts), clock, reports[0], start, end)
        queue = DayQueue(streamed, contract, clock, reports[1], start, end)
        for i, part in enumerate(parts):
            queue.add(part)
            day = start - whole.warmup_days + i
            if day >= start:
                queue.deliver(day)
    assert _hashes(whole.out_dir) == _hashes(streamed.out_dir)
    assert any(p.name.startswith("interactions_late") for p in whole.out_dir.rglob("*"))
    assert reports[0].defects == reports[1].defects != []
    assert reports[0].to_dict()["tables"] == reports[1].to_dict()["tables"]


def test_day_queue_refuses_rows_of_a_written_day(tmp_path: Path) -> None:
    cfg = GeneratorConfig(
        out_dir=tmp_path, start=date(2024, 3, 1), days=3, interactions_per_day=50, seed=1
    )
    start = epoch_day(cfg.start)
    clock = BusinessClock(cfg.timezone)
    cases = _batches(cfg)["cases"][-1]
    assert cases.num_rows
    queue = DayQueue(cfg, CASES, clock, GenerationReport(config={}), start, start + 3)
    queue.add(cases.slice(0, 0))
    queue.deliver(start)
    row = cases.slice(0, 1)
    row = row.set_column(row.schema.get_field_index("__day"), "__day", pa.array([start]))
    with pytest.raises(ValueError, match="already delivered"):
        queue.add(row)
