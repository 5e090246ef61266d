"""Calibration report: what each generator profile looks like through the pipeline's own tables.

Generates ``--days`` days per profile, stages them (``stage_day``, no validation: calibration
is about proportions, not defects) and computes the outcome tables with ``compute_outcomes``
(DuckDB), then prints the figures the profiles are calibrated against (targets and sources in
``outcome_pipeline/generator/config.py`` and ``docs/sample_data.md``).

Only the middle days are measured: a day needs W days of earlier contacts to see its repeats
(the generated range has no history before it) and its journeys need W days after it to end.

    python -m benchmarks.calibration --days 28 --interactions-per-day 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

TIMEZONE = "Europe/London"
START = date(2024, 5, 1)
W = 7  # OutcomeConfig's default repeat window


@dataclass(frozen=True)
class Figures:
    """One profile's steady-state figures over the measured days (rates: None on 0/0)."""

    profile: str
    days_measured: int
    contacts_per_day: float
    identified_share: float | None
    repeat_contact_rate: float | None  # repeat contacts / (identified) contacts
    contacts_per_journey: float | None  # (identified) contacts / journeys started
    fcr_rate: float | None
    resolution_rate: float | None
    contacts_per_resolution: float | None
    channel_mix: dict[str, float]


def _rate(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def _sum(table: pa.Table, column: str) -> int:
    return int(pc.sum(table[column]).as_py() or 0)


def measure_landing(landing: Path, start: date, days: int, profile: str) -> Figures:
    """The figures of ``landing`` (``days`` generated days from ``start``), days W..days-W-1."""
    from outcome_pipeline.contracts import CONTRACTS
    from outcome_pipeline.ingest.stage import stage_day
    from outcome_pipeline.outcomes import OutcomeConfig, OutcomeInputs, compute_outcomes

    if days < 2 * W + 1:
        raise ValueError(f"need at least {2 * W + 1} days, got {days}")
    all_days = [start + timedelta(days=i) for i in range(days)]
    tables = {
        name: pa.concat_tables(stage_day(landing, contract, d, TIMEZONE).staged for d in all_days)
        for name, contract in CONTRACTS.items()
    }
    measured = all_days[W : days - W]
    as_of = datetime.combine(all_days[-1] + timedelta(days=1), datetime.min.time())
    out = compute_outcomes(
        OutcomeInputs(**tables),
        measured,
        as_of.replace(tzinfo=ZoneInfo(TIMEZONE)),
        OutcomeConfig(timezone=TIMEZONE, repeat_window_days=W),
    )
    daily = out["daily_outcomes"]
    # daily_outcomes.contacts are identified contacts; anonymous ones are counted apart.
    identified = _sum(daily, "contacts")
    contacts = identified + _sum(daily, "anonymous_contacts")
    # Channel mix of identified contacts (anonymous ones have no per-channel split here).
    by_channel = daily.group_by("channel").aggregate([("contacts", "sum")])
    mix = {
        str(ch): n / identified
        for ch, n in zip(
            by_channel["channel"].to_pylist(), by_channel["contacts_sum"].to_pylist(), strict=True
        )
        if identified
    }
    ended = _sum(daily, "journeys_ended")
    resolved = _sum(daily, "resolved_journeys")
    return Figures(
        profile=profile,
        days_measured=len(measured),
        contacts_per_day=contacts / len(measured),
        identified_share=_rate(identified, contacts),
        repeat_contact_rate=_rate(_sum(daily, "repeat_contacts"), identified),
        contacts_per_journey=_rate(identified, _sum(daily, "journeys_started")),
        fcr_rate=_rate(_sum(daily, "fcr_journeys"), ended),
        resolution_rate=_rate(resolved, ended),
        contacts_per_resolution=_rate(_sum(daily, "contacts_in_resolved_journeys"), resolved),
        channel_mix=dict(sorted(mix.items(), key=lambda kv: -kv[1])),
    )


def measure_profile(
    profile: str,
    days: int,
    per_day: int,
    seed: int,
    workdir: Path,
    start: date = START,
    overrides: dict[str, float] | None = None,
) -> Figures:
    """Generate ``days`` days of ``profile`` (with ``overrides``) under ``workdir``; measure."""
    from outcome_pipeline.generator import GeneratorConfig, generate
    from outcome_pipeline.generator.config import PROFILES

    landing = workdir / profile
    generate(
        GeneratorConfig(
            landing,
            start,
            days,
            per_day,
            seed=seed,
            timezone=TIMEZONE,
            **{**PROFILES[profile], **(overrides or {})},
        )
    )
    label = " ".join([profile, *(f"{k}={v}" for k, v in (overrides or {}).items())])
    return measure_landing(landing, start, days, label)


def _pct(x: float | None) -> str:
    return "NULL" if x is None else f"{100 * x:.1f} %"


def _num(x: float | None) -> str:
    return "NULL" if x is None else f"{x:.2f}"


def markdown_table(rows: list[Figures]) -> str:
    head = (
        "| profile | contacts/day | identified | repeat rate (7 d) | contacts/journey "
        "| FCR | resolution rate | contacts/resolution | channel mix |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---|"
    )
    lines = [head]
    for f in rows:
        mix = ", ".join(f"{ch} {100 * s:.0f}" for ch, s in f.channel_mix.items())
        lines.append(
            f"| {f.profile} | {f.contacts_per_day:,.0f} | {_pct(f.identified_share)} "
            f"| {_pct(f.repeat_contact_rate)} | {_num(f.contacts_per_journey)} "
            f"| {_pct(f.fcr_rate)} | {_pct(f.resolution_rate)} "
            f"| {_num(f.contacts_per_resolution)} | {mix} |"
        )
    return "\n".join(lines)


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def main(argv: list[str] | None = None) -> int:
    from outcome_pipeline.generator.config import PROFILES

    p = argparse.ArgumentParser(prog="python -m benchmarks.calibration", description=__doc__)
    p.add_argument("--days", type=int, default=28)
    p.add_argument("--interactions-per-day", type=int, default=2_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--profile", action="append", choices=sorted(PROFILES), default=None)
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a profile field (calibration work), e.g. customers_per_interaction=60",
    )
    p.add_argument("--workdir", type=Path, default=None, help="keep the generated data here")
    args = p.parse_args(argv)
    overrides = {k: _number(v) for k, _, v in (s.partition("=") for s in args.set)}
    rows = []
    with tempfile.TemporaryDirectory(prefix="calibration_") as tmp:
        work = args.workdir or Path(tmp)
        for profile in args.profile or list(PROFILES):
            t0 = time.perf_counter()
            rows.append(
                measure_profile(
                    profile,
                    args.days,
                    args.interactions_per_day,
                    args.seed,
                    work,
                    overrides=overrides,
                )
            )
            print(f"{profile}: {time.perf_counter() - t0:.0f} s", flush=True)
    print(
        f"\n{args.days} days generated x {args.interactions_per_day:,} interactions/day, "
        f"seed {args.seed}; measured days {W + 1}..{args.days - W} (W = {W})\n"
    )
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
