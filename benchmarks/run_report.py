"""The harness's report: the stages it measures, what it records, and how it is summed up
(pipeline / limit / peer ratios), written out (markdown) and drawn (PNG)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import pipeline_stages as ps
from benchmarks.measure import Recorder, Stage

STAGES = (
    "read + type + dedupe",
    "validation",
    "warehouse write (staging)",
    "warehouse read (inputs)",
    "identity + journeys",
    "daily tables",
    "warehouse write (outcomes)",
)
TRANSFORMS = ("identity + journeys", "daily tables")
# The limit and the peer do the same work in fewer steps: their stages, under the pipeline's.
COUNTERPART = {
    "read + type + dedupe": "read + type + dedupe",
    "identity + journeys": "identity + journeys",
    "daily tables": "daily tables",
    "warehouse write (outcomes)": "warehouse write (outcomes)",
}
FIGURES = (
    "interactions_staged",
    "contacts",
    "anonymous_contacts",
    "repeat_contacts",
    "journeys_started",
    "multi_contact_journeys",
)


@dataclass
class Report:
    args: dict[str, object]
    machine: dict[str, object]
    day: str = ""
    generation: dict[str, object] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    totals: dict[str, dict[str, object]] = field(default_factory=dict)
    figures: dict[str, dict[str, int]] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)
    backfill: list[dict[str, object]] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    relations: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "args": self.args,
            "machine": self.machine,
            "day": self.day,
            "generation": self.generation,
            "stages": [s.as_dict() for s in self.stages],
            "totals": self.totals,
            "figures": self.figures,
            "figures_agree": not self.mismatches,
            "mismatches": self.mismatches,
            "backfill": self.backfill,
            "rows": self.rows,
            "errors": self.errors,
            "relations": {k: round(v, 4) for k, v in self.relations.items()},
        }


def summarise(report: Report, rec: Recorder) -> None:
    def total(engine: str, names: tuple[str, ...]) -> float | None:
        found = [rec.get(n, engine) for n in names]
        return sum(s.seconds for s in found if s) if all(found) else None

    engines = ("pipeline", "limit", "peer")
    e2e_names = {
        "pipeline": STAGES,
        "limit": tuple(COUNTERPART.values()),
        "peer": tuple(COUNTERPART.values()),
    }
    for label, names in (("transforms", {e: TRANSFORMS for e in engines}), ("end to end", None)):
        row: dict[str, object] = {}
        for e in engines:
            row[e] = total(e, names[e] if names else e2e_names[e])
        for other in ("limit", "peer"):
            p, o = row["pipeline"], row[other]
            row[f"pipeline/{other}"] = round(p / o, 2) if p and o else None
        report.totals[label] = row
    for extra in ("end to end (Dagster run, warm)", "end to end (cold, from launch)"):
        s = rec.get(extra, "pipeline")
        if s:
            e2e = report.totals["end to end"]
            report.totals[extra] = {
                "pipeline": s.seconds,
                "pipeline/limit": round(s.seconds / e2e["limit"], 2) if e2e["limit"] else None,
                "pipeline/peer": round(s.seconds / e2e["peer"], 2) if e2e["peer"] else None,
            }
    ref = report.figures.get("pipeline", {})
    for engine in ("limit", "peer"):
        other = report.figures.get(engine, {})
        for name in FIGURES:
            if ref.get(name) != other.get(name):
                report.mismatches.append(
                    f"{name}: pipeline {ref.get(name)} != {engine} {other.get(name)}"
                )
    report.stages = rec.stages


def _fmt(v: object, digits: int = 2) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def markdown(report: Report, png: str) -> str:
    m = report.machine
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items())
    gen = report.generation
    lines = [
        f"# Benchmark: {report.args['interactions_per_day']:,} interactions/day, day {report.day}",
        "",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['os']}",
        f"- Python {m['python']}; {libs}",
        f"- run: {m['date']}; command: `{report.args['command']}`",
        "- data: "
        + "; ".join(
            f"{k}: {v['days']} days x {v['interactions_per_day']:,}/day, {v['skew']}, "
            f"generated in {v['seconds']} s"
            for k, v in gen.items()
        ),
        f"- measured day: {report.rows.get('interactions_staged', 0):,} interactions staged, "
        f"{report.rows.get('window_interactions', 0):,} in the journeys' input window "
        f"(W + 2 days), {report.rows.get('staged', 0):,} rows staged over all feed tables",
        "",
        "Warm stages run in this process after a warm-up day; the limit is raw DuckDB SQL "
        "over the same landed files into a DuckDB file, the peer plain pandas (see "
        "benchmarks/README.md for what each does and skips). Peak RSS is the process's.",
        "",
        "| stage | pipeline s | rows | rows/s | peak RSS MiB | limit s | pipeline/limit "
        "| peer s | pipeline/peer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by = {(s.name, s.engine): s for s in report.stages}
    for name in STAGES:
        p = by.get((name, "pipeline"))
        if p is None:
            continue
        lim = by.get((COUNTERPART.get(name, ""), "limit"))
        peer = by.get((COUNTERPART.get(name, ""), "peer"))
        lines.append(
            f"| {name} | {p.seconds:.3f} | {_fmt(p.rows)} | {_fmt(p.rows_per_s, 0)} "
            f"| {p.peak_rss_mib:,.0f} | {_fmt(lim.seconds if lim else None, 3)} "
            f"| {_fmt(p.seconds / lim.seconds if lim else None)} "
            f"| {_fmt(peer.seconds if peer else None, 3)} "
            f"| {_fmt(p.seconds / peer.seconds if peer else None)} |"
        )
    for label, row in report.totals.items():
        s = by.get((label, "pipeline"))
        rss = f"{s.peak_rss_mib:,.0f}" if s else "–"
        lines.append(
            f"| **{label}** | **{_fmt(row.get('pipeline'), 3)}** | | | {rss} "
            f"| {_fmt(row.get('limit'), 3)} | **{_fmt(row.get('pipeline/limit'))}** "
            f"| {_fmt(row.get('peer'), 3)} | {_fmt(row.get('pipeline/peer'))} |"
        )
    lines += ps.relation_lines(report.relations)
    lines += [
        "",
        "Limit and peer rows of a stage are their whole counterpart (the limit's and the "
        "peer's read also write their staging; they have no validation). Dagster and cold "
        "rows are compared with the limit's and the peer's end to end.",
        "",
        "## Same numbers? (day " + report.day + ")",
        "",
        "| figure | pipeline | limit | peer |",
        "|---|---:|---:|---:|",
    ]
    for name in FIGURES:
        vals = [report.figures.get(e, {}).get(name) for e in ("pipeline", "limit", "peer")]
        lines.append(f"| {name} | " + " | ".join(_fmt(v) for v in vals) + " |")
    lines.append("")
    if report.mismatches:
        lines.append("**MISMATCH**: " + "; ".join(report.mismatches))
    else:
        lines.append("All figures agree: pipeline == limit == peer.")
    if report.backfill:
        lines += [
            "",
            "## Backfill (one Dagster run over the range, in-process: the UI's single-run path)",
            "",
            "| warehouse | days | interactions/day | seconds | days/min | 365 days (min) "
            "| peak RSS MiB | ok |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for b in report.backfill:
            lines.append(
                f"| {b['warehouse']} | {b['days']} | {b['interactions_per_day']:,} "
                f"| {b['seconds']} | {b['days_per_minute']} | {b['minutes_for_365_days']} "
                f"| {b['peak_rss_mib']:,} | {'yes' if b['success'] else 'NO'} |"
            )
    if report.errors:
        lines += ["", "## Errors", ""] + [f"- {e}" for e in report.errors]
    lines += ["", f"![time per stage]({png})", ""]
    return "\n".join(lines)


def plot(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by = {(s.name, s.engine): s.seconds for s in report.stages}
    names = [n for n in STAGES if (n, "pipeline") in by]
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(names) + 1.6))
    height = 0.27
    for i, engine in enumerate(("pipeline", "limit", "peer")):
        values = [
            by.get((COUNTERPART.get(n, n) if engine != "pipeline" else n, engine), 0) for n in names
        ]
        ax.barh([y + (i - 1) * height for y in range(len(names))], values, height, label=engine)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("seconds (one business day, warm)")
    ax.set_title(
        f"{report.args['interactions_per_day']:,} interactions/day, day {report.day}: "
        "time per stage"
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
