"""``generate``: simulate the run's days, writing each day's folders as soon as it is complete."""

from __future__ import annotations

import numpy as np

from outcome_pipeline.contracts.feeds import (
    CONTRACTS,
    CUSTOMERS,
    FILE_FORMATS,
    SUBSCRIPTION_EVENTS,
    SURVEY_TYPES,
)
from outcome_pipeline.generator.cases import case_keys, case_rows
from outcome_pipeline.generator.config import GeneratorConfig
from outcome_pipeline.generator.crm import (
    churn_candidates,
    customer_rows,
    lifecycle,
    subscription_event_rows,
)
from outcome_pipeline.generator.delivery import DayQueue, deliver_table
from outcome_pipeline.generator.interactions import Truth, interaction_rows
from outcome_pipeline.generator.journeys import Columns, JourneySimulator
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
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    _clear_previous_output(cfg)
    report = GenerationReport(config=cfg.as_dict())
    for name in CONTRACTS:
        for day in range(start_day, end_day):
            report.stats(name, day_from_epoch(day).isoformat())

    # Journey batches feed these tables; a day's folders are written as soon as no later
    # batch can add to it (a batch's rows are all on its own day or after), so memory holds
    # the day in hand and the rows open journeys have already produced for later days.
    queues = {
        name: DayQueue(cfg, CONTRACTS[name], clock, report, start_day, end_day)
        for name in ("interactions", "cases", "survey_responses")
    }
    truth = Truth()
    churn: list[Columns] = []
    outcomes: list[np.ndarray] = []
    survey_counts: dict[str, object] = {}
    for day in range(start_day - cfg.warmup_days, end_day):
        batch = sim.simulate(day)
        has_case, first_attempt = case_keys(batch)
        queued_day = clock.local_day(batch.legs["queued"])
        kept = (queued_day >= start_day) & (queued_day < end_day)
        truth.add(batch, kept, start_day, end_day, clock)
        table, view = interaction_rows(cfg.seed, batch, pop, clock, has_case, first_attempt, kept)
        queues["interactions"].add(table)
        del table
        queues["cases"].add(
            case_rows(batch, pop, clock, has_case, first_attempt, start_day, end_day)
        )
        churn.append(churn_candidates(cfg.seed, batch))
        responses, counts = survey_rows(cfg.seed, view, pop, clock, start_day, end_day)
        queues["survey_responses"].add(responses)
        for key, value in counts.items():
            survey_counts[key] = survey_counts.get(key, 0) + value
        issues = batch.issues
        mine = (clock.local_day(issues["start"]) >= start_day) & (issues["cust"] >= 0)
        outcomes.append(np.stack([issues[k][mine] for k in ("cust", "end", "resolved")]))
        del batch, view, responses, issues
        if day >= start_day:
            for queue in queues.values():
                queue.deliver(day)

    # CRM snapshots and subscription events need every day's churn: written last.
    lc = lifecycle(cfg, pop, clock, churn)
    for contract, rows in (
        (CUSTOMERS, customer_rows),
        (SUBSCRIPTION_EVENTS, subscription_event_rows),
    ):
        deliver_table(cfg, contract, rows(cfg, pop, clock, lc), clock, report, start_day, end_day)
    # Manifest lists in table order, then day (as if each table were written in turn).
    rank = {name: i for i, name in enumerate(CONTRACTS)}
    report.files.sort(key=lambda f: rank[f.table])
    report.defects.sort(key=lambda d: rank[str(d["table"])])
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
