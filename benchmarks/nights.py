"""Simulated nights on skewed generated data, through the real planning and compute code.

With the journey horizon H every day is final by day + 1 + H + W, the longest
nightly restatement range is at most H + W + 2 days, and each day's churn flags flip on the
night its churn windows close. Each night is what the nightly schedule would do:
``planning.nightly_plan`` from the metadata the runs before it recorded (``final_on_days``,
``churn_final_on``), then one ``compute_outcomes`` (DuckDB) for the load, one for the
restatement and one per churn range, each with the as_of of the loaded day and only the staged
days ``input_window`` says to read. The Dagster shell (runs, instance, warehouse writes) is
left out: ``outcome_pipeline_tests/automation`` covers it.

```bash
.venv/bin/python -m benchmarks.nights                      # 60 nights at 20k/day, H = 30
.venv/bin/python -m benchmarks.nights --interactions-per-day 2000 --days 40
```

Prints a markdown report (and writes it to ``--out`` if given). Not a CI test: 60 nights at
20k/day take tens of minutes.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time as clock
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.defs.automation.planning import DayRange, nightly_plan
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.generator.config import SKEWED
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.outcomes import OutcomeConfig, OutcomeInputs, compute_outcomes, input_window
from outcome_pipeline.outcomes.maturity import churn_final_on, churn_pending, final_on_days

TZ = "Europe/London"


def windowed(inputs: OutcomeInputs, first: date, last: date, as_of: datetime, cfg) -> OutcomeInputs:
    """Only the staged days the outcome asset reads for first..last at as_of."""
    window = input_window(first, last, as_of, cfg)
    parts = {}
    for name in CONTRACTS:
        table: pa.Table = getattr(inputs, name)
        start, end = window.for_input(name)
        keep = pc.less_equal(table["partition_date"], pa.scalar(end, pa.date32()))
        if start is not None:
            keep = pc.and_(
                keep, pc.greater_equal(table["partition_date"], pa.scalar(start, pa.date32()))
            )
        parts[name] = table.filter(keep)
    return OutcomeInputs(**parts)


def _per_day_all(daily: pa.Table, column: str) -> dict[date, bool]:
    out: dict[date, bool] = {}
    for row in daily.select(["partition_date", column]).to_pylist():
        out[row["partition_date"]] = out.get(row["partition_date"], True) and bool(row[column])
    return out


@dataclass
class Simulation:
    """What the nights' runs recorded and what the report needs."""

    pending: dict[date, date] = field(default_factory=dict)
    churn: dict[date, list[date]] = field(default_factory=dict)
    final_at: dict[date, date] = field(default_factory=dict)
    flipped: dict[str, dict[date, date]] = field(
        default_factory=lambda: {"is_churn_30d_final": {}, "is_churn_90d_final": {}}
    )
    expected: dict[date, tuple[date, date]] = field(default_factory=dict)
    longest: dict[str, int] = field(default_factory=lambda: {"restate": 0, "churn": 0})
    early: list[str] = field(default_factory=list)
    runs: int = 0
    night_seconds: list[float] = field(default_factory=list)
    capped: int = 0
    churned_30d: int = 0


def run_range(
    sim: Simulation, inputs: OutcomeInputs, days: DayRange, as_of_day: date, cfg: OutcomeConfig
) -> None:
    """One run of the outcomes asset over ``days`` at the end of ``as_of_day``."""
    as_of = datetime.combine(as_of_day + timedelta(days=1), time(), ZoneInfo(TZ))
    out = compute_outcomes(
        windowed(inputs, days.first, days.last, as_of, cfg), days.days, as_of, cfg
    )
    sim.runs += 1
    journeys, daily = out["journeys"], out["daily_outcomes"]
    for d in days.days:
        sim.pending.pop(d, None)
        sim.churn.pop(d, None)
    sim.pending.update(final_on_days(days.days, journeys, as_of_day, cfg.repeat_window_days, TZ))
    churn_on = churn_final_on(days.days, journeys, cfg)
    sim.churn.update(churn_pending(churn_on, as_of_day))
    for day, final in _per_day_all(daily, "is_final").items():
        if final and day not in sim.final_at:
            sim.final_at[day] = as_of_day
            sim.expected[day] = churn_on[day]
            of_day = journeys.filter(pc.equal(journeys["partition_date"], pa.scalar(day)))
            sim.capped += sum(bool(c) for c in of_day["is_capped"].to_pylist())
    for column, seen in sim.flipped.items():
        for day, flag in _per_day_all(daily, column).items():
            if flag and day not in seen:
                seen[day] = as_of_day
                want = sim.expected.get(day)
                index = 0 if column == "is_churn_30d_final" else 1
                if want is not None and as_of_day < want[index]:
                    sim.early.append(f"{day} {column} at {as_of_day}, expected {want[index]}")


def simulate(
    inputs: OutcomeInputs, start: date, nights: int, cfg: OutcomeConfig, log=print
) -> Simulation:
    sim = Simulation()
    h, w = cfg.max_journey_days, cfg.repeat_window_days
    for n in range(nights):
        day = start + timedelta(days=n)
        scheduled = datetime.combine(day + timedelta(days=1), time(2, 30), ZoneInfo(TZ))
        previous = datetime.combine(day, time(2, 30), ZoneInfo(TZ))
        plan = nightly_plan(
            scheduled,
            previous,
            TZ,
            start,
            w,
            pending=sim.pending,
            churn_pending=sim.churn,
            churn_gap_days=w,
            max_range_days=h + w + 2,
        )
        assert plan.load is not None and plan.load.last == day, plan
        began = clock.perf_counter()
        run_range(sim, inputs, plan.load, day, cfg)
        if plan.restate is not None:
            sim.longest["restate"] = max(sim.longest["restate"], len(plan.restate.days))
            run_range(sim, inputs, plan.restate, day, cfg)
        for r in plan.churn:
            sim.longest["churn"] = max(sim.longest["churn"], len(r.days))
            run_range(sim, inputs, r, day, cfg)
        sim.night_seconds.append(clock.perf_counter() - began)
        restate = f"{plan.restate.first}..{plan.restate.last}" if plan.restate else "-"
        churn = ", ".join(f"{r.first}..{r.last}" for r in plan.churn) or "-"
        log(
            f"night {n + 1:>3} load {day} restate {restate} churn {churn} "
            f"{sim.night_seconds[-1]:.1f} s"
        )
    return sim


def stage_all(root: Path, start: date, days: int) -> OutcomeInputs:
    tables = {
        name: pa.concat_tables(
            stage_day(root, contract, start + timedelta(days=i), TZ).staged for i in range(days)
        )
        for name, contract in CONTRACTS.items()
    }
    return OutcomeInputs(**tables)


def report(sim: Simulation, start: date, nights: int, cfg: OutcomeConfig, args, timings) -> str:
    h, w = cfg.max_journey_days, cfg.repeat_window_days
    last_night = start + timedelta(days=nights - 1)
    bound_days = [
        start + timedelta(days=i)
        for i in range(nights)
        if start + timedelta(days=i + 1 + h + w) <= last_night
    ]
    late = [
        d
        for d in bound_days
        if d not in sim.final_at or sim.final_at[d] > d + timedelta(days=1 + h + w)
    ]
    lag = [(sim.final_at[d] - d).days for d in bound_days if d in sim.final_at]
    flips: dict[str, tuple[int, int, int]] = {}
    for index, column in enumerate(("is_churn_30d_final", "is_churn_90d_final")):
        due = [d for d, e in sim.expected.items() if e[index] <= last_night]
        on_time = [d for d in due if sim.flipped[column].get(d) == sim.expected[d][index]]
        flips[column] = (len(due), len(on_time), len(sim.flipped[column]))
    seconds = sim.night_seconds
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    lines = [
        f"## Simulated nights: {nights} nights at {args.interactions_per_day:,}/day, skewed, "
        f"H = {h}, W = {w}",
        "",
        f"`python -m benchmarks.nights --interactions-per-day {args.interactions_per_day} "
        f"--days {nights} --max-journey-days {h} --start {start} --churn-days "
        f"{cfg.churn_short_days} {cfg.churn_long_days}` (seed {args.seed}, {TZ}; "
        "spring-forward inside the period when it spans the last Sunday of March).",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| generate + stage (s) | {timings['generate']:.0f} + {timings['stage']:.0f} |",
        f"| nights: total / median / max (s) | {sum(seconds):.0f} / "
        f"{sorted(seconds)[len(seconds) // 2]:.1f} / {max(seconds):.1f} |",
        f"| compute runs (load + restatement + churn ranges) | {sim.runs} |",
        f"| longest restatement range (days; bound H + W + 2 = {h + w + 2}) | "
        f"{sim.longest['restate']} |",
        f"| longest churn restatement range (days) | {sim.longest['churn']} |",
        f"| capped journeys (of the days that became final) | {sim.capped:,} |",
        f"| days that must be final by the last night (day + 1 + H + W) | {len(bound_days)} |",
        f"| … final later than day + 1 + H + W, or never | {len(late)} |",
        "| … final after (days): min / median / max | "
        + (f"{min(lag)} / {sorted(lag)[len(lag) // 2]} / {max(lag)} |" if lag else "– |"),
    ]
    for column, (due, on_time, flipped) in flips.items():
        lines.append(
            f"| `{column}`: windows closed by the last night / flipped that night / flipped "
            f"| {due} / {on_time} / {flipped} |"
        )
    lines += [
        f"| flags flipped before their closing night | {len(sim.early)} |",
        f"| peak RSS (GiB) | {rss:.2f} |",
    ]
    if late:
        lines += ["", "Late days: " + ", ".join(str(d) for d in late)]
    if sim.early:
        lines += ["", "Early flips: " + "; ".join(sim.early[:10])]
    ok = not late and not sim.early and sim.longest["restate"] <= h + w + 2
    ok = ok and all(due == on_time for due, on_time, _ in flips.values())
    lines += ["", "Result: " + ("every bound holds." if ok else "**a bound is violated** (above).")]
    return "\n".join(lines) + "\n"


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interactions-per-day", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--max-journey-days", type=int, default=30)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 3, 1))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--churn-days",
        type=int,
        nargs=2,
        default=(30, 90),
        metavar=("SHORT", "LONG"),
        help="churn windows (a quick check with short windows sees the 90-day flag flip too)",
    )
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(list(argv) if argv is not None else None)
    cfg = OutcomeConfig(
        timezone=TZ,
        max_journey_days=args.max_journey_days,
        churn_short_days=args.churn_days[0],
        churn_long_days=args.churn_days[1],
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = args.workdir or Path(tmp)
        began = clock.perf_counter()
        generate(
            GeneratorConfig(
                root,
                args.start,
                args.days,
                args.interactions_per_day,
                seed=args.seed,
                timezone=TZ,
                **SKEWED,
            )
        )
        generated = clock.perf_counter()
        inputs = stage_all(root, args.start, args.days)
        staged = clock.perf_counter()
        print(
            f"generated in {generated - began:.0f} s, staged {inputs.interactions.num_rows:,} "
            f"legs in {staged - generated:.0f} s",
            flush=True,
        )
        sim = simulate(inputs, args.start, args.days, cfg, log=lambda s: print(s, flush=True))
    text = report(
        sim,
        args.start,
        args.days,
        cfg,
        args,
        {"generate": generated - began, "stage": staged - generated},
    )
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0 if "every bound holds" in text else 1


if __name__ == "__main__":
    sys.exit(main())
