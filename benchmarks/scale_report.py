"""The scale benchmark's reports: one run's Markdown and the headline table of several."""

from __future__ import annotations

from benchmarks.measure import scale_label

# The targets (on the project's 2-core machine), minutes for 365 days at 100k/day.
TARGET_MINUTES_365 = {"duckdb": 15.0, "postgresql": 25.0}


def markdown(report: dict[str, object]) -> str:
    a = report["args"]
    m = report["machine"]
    lim = report["limit"]
    lines = [
        f"# Backfill of {a['days']} days × {a['interactions_per_day']:,} interactions/day",
        "",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; run {m['date']}",
        f"- data: profile {a['profile']}, customers capped at {a['max_customers']:,}, "
        f"seed {a['seed']}, from {a['start']}; OUTCOME_CHUNK_DAYS={a['chunk_days'] or 'unset'}, "
        f"OUTCOME_COMPUTE_MEMORY_LIMIT={a.get('compute_memory_limit') or 'default'}; "
        f"windows of {a['days_per_run'] or 'days / runs'} days",
        f"- limit (raw DuckDB SQL, no validation): {lim.get('seconds_per_day', '–')} s/day "
        f"× {a['days']} days = {lim.get('seconds_for_range', '–')} s",
        "",
        "| warehouse | concurrent runs | windows | staging s | outcomes s | total s | days/min "
        "| × limit | peak RSS of a run MiB | RSS of a wave MiB | equal to 1 run | ok |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for c in report["configs"]:
        ratio = (
            round(c["seconds"] / lim["seconds_for_range"], 2)
            if lim.get("seconds_for_range") and c.get("seconds")
            else "–"
        )
        lines.append(
            f"| {c['warehouse']} | {runs_label(c)} | {c['windows']} "
            f"| {c.get('staging', {}).get('seconds', '–')} "
            f"| {c.get('outcomes', {}).get('seconds', '–')} | {c.get('seconds', '–')} "
            f"| {c.get('days_per_minute', '–')} | {ratio} | {c.get('peak_rss_mib', '–'):,} "
            f"| {c.get('max_wave_rss_mib', '–'):,} | {yes(c.get('equal_to_one_run'))} "
            f"| {yes(c.get('success'))} |"
        )
    for c in report["configs"]:
        # Reports from before the staging asset analysed its tables (the harness did).
        if "analyze" in c:
            lines.append(
                f"\nPostgreSQL, {c['concurrent_runs']} run(s): ANALYZE of the staging tables "
                f"between the phases {c['analyze']['seconds']} s (in the total; the server's "
                f"autovacuum: {c['analyze']['autovacuum']})."
            )
    lines += ["", "Scaling (time of one run / time of N runs, per warehouse):", ""]
    for kind, curve in report["scaling"].items():
        lines.append(f"- {kind}: " + ", ".join(f"N={n}: {s}" for n, s in curve.items()))
    return "\n".join(lines) + "\n"


def runs_label(c: dict[str, object]) -> str:
    n, o = c["concurrent_runs"], c.get("outcome_runs_at_once", c["concurrent_runs"])
    return str(n) if n == o else f"{n} (outcomes {o})"


def yes(v: object) -> str:
    return "–" if v is None else ("yes" if v else "NO")


def headline(reports: list[dict[str, object]]) -> str:
    """One table over several reports (e.g. 365 days at 100k, 30 and 90 days at 1M)."""
    lines = [
        "| warehouse | days × interactions/day | runs | wall (min) | days/min "
        "| limit s/day × days (min) | × limit | peak RSS (GiB) | target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in reports:
        a, lim = r["args"], r["limit"]
        for c in r["configs"]:
            if not c.get("seconds"):
                continue
            target = TARGET_MINUTES_365.get(c["warehouse"])
            scale = f"{a['days']} × {scale_label(a['interactions_per_day'])}"
            goal = (
                f"≤ {target:g} min: {'met' if c['seconds'] / 60 <= target else 'NOT met'}"
                if target and a["days"] == 365 and a["interactions_per_day"] == 100_000
                else ""
            )
            lim_s = lim.get("seconds_for_range")
            vs_limit = f"{lim_s / 60:.1f} | {c['seconds'] / lim_s:.2f}" if lim_s else "– | –"
            lines.append(
                f"| {c['warehouse']} | {scale} | {runs_label(c)} "
                f"| {c['seconds'] / 60:.1f} | {c['days_per_minute']} | {vs_limit} "
                f"| {c['peak_rss_mib'] / 1024:.1f} | {goal} |"
            )
    return "\n".join(lines) + "\n"


def compare(configs: list[dict[str, object]]) -> dict[str, dict[int, float]]:
    """Mark each config equal or not to the one-run config of its warehouse; the curve."""
    scaling: dict[str, dict[int, float]] = {}
    for kind in dict.fromkeys(c["warehouse"] for c in configs):
        mine = [c for c in configs if c["warehouse"] == kind]
        base = next((c for c in mine if c["concurrent_runs"] == 1), mine[0])
        for c in mine:
            if "fingerprint" in c and "fingerprint" in base:
                c["equal_to_one_run"] = c["fingerprint"] == base["fingerprint"]
        if base.get("seconds"):
            scaling[kind] = {
                c["concurrent_runs"]: round(base["seconds"] / c["seconds"], 2)
                for c in mine
                if c.get("seconds")
            }
    return scaling
