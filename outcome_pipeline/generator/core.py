"""``generate``: simulate the run's days, then deliver every table into the landing layout."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from outcome_pipeline.contracts.feeds import CONTRACTS, FILE_FORMATS, SURVEY_TYPES
from outcome_pipeline.generator.cases import case_keys, case_rows
from outcome_pipeline.generator.config import GeneratorConfig
from outcome_pipeline.generator.crm import (
    churn_candidates,
    customer_rows,
    lifecycle,
    subscription_event_rows,
)
from outcome_pipeline.generator.delivery import deliver_table
from outcome_pipeline.generator.interactions import Truth, interaction_rows
from outcome_pipeline.generator.journeys import JourneySimulator
from outcome_pipeline.generator.population import build_population
from outcome_pipeline.generator.report import GenerationReport
from outcome_pipeline.generator.surveys import survey_rows
from outcome_pipeline.generator.timeutil import DAY, BusinessClock, day_from_epoch, epoch_day


def _clear_previous_output(cfg: GeneratorConfig) -> None:
    """Remove landing files a previous run left in this run's day folders.

    Only files named like a feed table's landing file are removed, and only in the day
    folders this run writes: a stale ``customers_signups.jsonl`` from another seed would
    otherwise be read as part of this run.
    """
    for contract in CONTRACTS.values():
        for day in cfg.day_list:
            folder = cfg.out_dir / contract.feed / day.isoformat()
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                stem, _, ext = path.name.rpartition(".")
                owned = stem == contract.name or stem.startswith(contract.name + "_")
                if path.is_file() and owned and ext in FILE_FORMATS:
                    path.unlink()


def _rate(num: float, den: float) -> float | None:
    return round(float(num) / float(den), 4) if den else None


def generate(cfg: GeneratorConfig) -> GenerationReport:
    """Write ``cfg.days`` day folders of all feeds under ``cfg.out_dir`` and a manifest.

    Deterministic: the same config writes byte-identical files.
    """
    clock = BusinessClock(cfg.timezone)
    start_day = epoch_day(cfg.start)
    end_day = start_day + cfg.days
    pop = build_population(cfg, clock)
    sim = JourneySimulator(cfg, pop, clock)
    truth = Truth()
    interactions, cases, surveys, churn = [], [], [], []
    outcomes: list[np.ndarray] = []
    survey_counts: dict[str, object] = {}
    for day in range(start_day - cfg.warmup_days, end_day):
        batch = sim.simulate(day)
        has_case, first_attempt = case_keys(batch)
        queued_day = clock.local_day(batch.legs["queued"])
        kept = (queued_day >= start_day) & (queued_day < end_day)
        truth.add(batch, kept, start_day, end_day, clock)
        table, view = interaction_rows(cfg.seed, batch, pop, clock, has_case, first_attempt, kept)
        interactions.append(table)
        cases.append(case_rows(batch, pop, clock, has_case, first_attempt, start_day, end_day))
        churn.append(churn_candidates(cfg.seed, batch))
        responses, counts = survey_rows(cfg.seed, view, pop, clock, start_day, end_day)
        surveys.append(responses)
        for key, value in counts.items():
            survey_counts[key] = survey_counts.get(key, 0) + value
        issues = batch.issues
        mine = (clock.local_day(issues["start"]) >= start_day) & (issues["cust"] >= 0)
        outcomes.append(np.stack([issues[k][mine] for k in ("cust", "end", "resolved")]))
        del batch, view

    lc = lifecycle(cfg, pop, clock, churn)
    tables = {
        "interactions": pa.concat_tables(interactions),
        "customers": customer_rows(cfg, pop, clock, lc),
        "cases": pa.concat_tables(cases),
        "subscription_events": subscription_event_rows(cfg, pop, clock, lc),
        "survey_responses": pa.concat_tables(surveys),
    }
    del interactions, cases, surveys

    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    _clear_previous_output(cfg)
    report = GenerationReport(config=cfg.as_dict())
    for name, contract in CONTRACTS.items():
        for day in range(start_day, end_day):
            report.stats(name, day_from_epoch(day).isoformat())
        deliver_table(cfg, contract, tables.pop(name), clock, report, start_day, end_day)
    report.truth = {
        **truth.as_dict(),
        "customers": pop.n,
        **_churn_truth(np.concatenate(outcomes, axis=1), lc.t_churn),
        **_survey_truth(survey_counts),
    }
    report.write(cfg.out_dir)
    return report


def _churn_truth(outcomes: np.ndarray, t_churn: np.ndarray) -> dict[str, object]:
    """Churn within 30/90 days after the end of an issue raised in the run, by real outcome."""
    cust, end, resolved = outcomes[0], outcomes[1], outcomes[2].astype(bool)
    after = t_churn[cust] - end
    out: dict[str, object] = {}
    for days in (30, 90):
        hit = (after > 0) & (after <= days * DAY)
        out[f"churn_{days}d_after_resolved_issue"] = _rate(hit[resolved].sum(), resolved.sum())
        out[f"churn_{days}d_after_unresolved_issue"] = _rate(
            hit[~resolved].sum(), (~resolved).sum()
        )
    return out


def _survey_truth(c: dict[str, object]) -> dict[str, object]:
    sums = np.asarray(c.get("score_sum_by_type_resolved", np.zeros(6)))
    counts = np.asarray(c.get("count_by_type_resolved", np.zeros(6)))
    means = {
        f"mean_{t}_{'resolved' if r else 'unresolved'}": _rate(sums[i * 2 + r], counts[i * 2 + r])
        for i, t in enumerate(SURVEY_TYPES)
        for r in (0, 1)
    }
    return {
        "surveys_sent": int(c.get("sent", 0)),
        "surveys_answered": int(c.get("responded", 0)),
        "survey_response_rate": _rate(c.get("responded", 0), c.get("sent", 0)),
        **means,
    }
