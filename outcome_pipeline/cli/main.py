"""`outcome-pipeline` command line: generate sample feeds, run a range, run the demo."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from outcome_pipeline.errors import redact_url

if TYPE_CHECKING:
    from outcome_pipeline.errors import ConfigError


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


_EPHEMERAL_HELP = (
    "keep no run history (default: $DAGSTER_HOME, else ./dagster_home, the instance the UI shows)"
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="outcome-pipeline", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write sample feeds in the landing layout")
    g.add_argument(
        "--out", type=Path, default=None, help="landing root (default: $OUTCOME_LANDING_DIR)"
    )
    g.add_argument("--start", type=_day, required=True)
    g.add_argument("--days", type=int, default=14)
    g.add_argument("--interactions-per-day", type=int, default=10_000)
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--defect-rate", type=float, default=0.0)
    g.add_argument(
        "--profile",
        choices=("default", "skewed", "extreme"),
        default="default",
        help="shape of the data (docs/sample_data.md): default = an average center (SQM "
        "figures), skewed = a bank-like base with heavy callers, extreme = a stress case",
    )
    g.add_argument(
        "--format",
        action="append",
        default=[],
        metavar="FEED=FORMAT",
        help=(
            "write a feed in a vendor's export format: interactions=amazon-connect, "
            "interactions:email,chat=zendesk (by channel), crm=salesforce, surveys=qualtrics"
        ),
    )

    r = sub.add_parser("run", help="materialise every asset for a range of days, in-process")
    r.add_argument("--start", type=_day, required=True)
    r.add_argument("--end", type=_day, required=True, help="last day, inclusive")
    r.add_argument("--ephemeral-instance", action="store_true", help=_EPHEMERAL_HELP)
    r.add_argument(
        "--allow-empty-days",
        action="store_true",
        help="stage days with no landing files as empty, even where that replaces staged rows "
        "(sets the run tag outcome/allow_empty_days=true)",
    )

    d = sub.add_parser(
        "demo",
        help="generate sample data for the two weeks ending yesterday and run them (DuckDB); "
        "writes OUTCOME_START_DATE and DAGSTER_HOME to ./.env for `dagster dev`",
    )
    d.add_argument(
        "--start", type=_day, default=None, help="first day (default: --days before today)"
    )
    d.add_argument("--days", type=int, default=14)
    d.add_argument("--interactions-per-day", type=int, default=5_000)
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--ephemeral-instance", action="store_true", help=_EPHEMERAL_HELP)
    rp = sub.add_parser(
        "report",
        help="write the outcome report (HTML page + a PNG per chart) for a range of days, "
        "from the daily tables in the warehouse",
    )
    rp.add_argument("--start", type=_day, required=True)
    rp.add_argument("--end", type=_day, required=True, help="last day, inclusive")
    rp.add_argument(
        "--out", type=Path, default=None, help="folder (default: $OUTCOME_REPORT_DIR, data/report)"
    )
    o = sub.add_parser(
        "docs", help="rewrite docs/feed_contracts.md, docs/data_dictionary.md and docs/metrics.md"
    )
    o.add_argument("--out", type=Path, default=Path("docs"))
    _sources_parser(sub)
    from outcome_pipeline.cli.data_docs import add_parser as add_data_docs

    add_data_docs(sub)
    return p


# --- sources: source mappings (self-contained block) ------------------------------------


def _sources_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("sources", help="check or preview the source mappings")
    ss = s.add_subparsers(dest="sources_command", required=True)
    c = ss.add_parser("check", help="every mapping parses, is complete and runs on landed files")
    c.add_argument("--dir", type=Path, default=None, help="mappings folder ($OUTCOME_SOURCES_DIR)")
    v = ss.add_parser("preview", help="the first converted rows of a source, and its rejects")
    v.add_argument("source", help="mapping name (or file name without .toml)")
    v.add_argument("--day", type=_day, required=True)
    v.add_argument("--rows", type=int, default=10)
    v.add_argument("--dir", type=Path, default=None, help="mappings folder ($OUTCOME_SOURCES_DIR)")


def _sources(args: argparse.Namespace) -> int:
    from outcome_pipeline.cli import sources
    from outcome_pipeline.settings import Settings

    settings = Settings.from_env()
    landing = Path(settings.landing_dir)
    if args.sources_command == "check":
        return sources.check(args.dir, landing, settings.timezone)
    return sources.preview(args.dir, landing, settings.timezone, args.source, args.day, args.rows)


def _landing(out: Path | None) -> Path:
    from outcome_pipeline.settings import Settings

    return out or Path(Settings.from_env().landing_dir)


def _generate(
    out: Path,
    start: date,
    days: int,
    per_day: int,
    seed: int,
    defects: float,
    profile: str = "default",
) -> None:
    from outcome_pipeline.generator import GeneratorConfig, generate

    t0 = time.perf_counter()
    report = generate(
        GeneratorConfig.for_profile(
            profile,
            out_dir=out,
            start=start,
            days=days,
            interactions_per_day=per_day,
            seed=seed,
            defect_rate=defects,
        )
    )
    print(report.summary())
    print(f"generated in {time.perf_counter() - t0:.1f}s under {out}")


def _run_guarded(
    start: date,
    end: date,
    prepare: Callable[[], None] | None = None,
    ephemeral_instance: bool = False,
    tags: dict[str, str] | None = None,
) -> int:
    """Check the settings and the range, then run; a mistake is a paragraph, never a trace.

    Exit codes: 0 every asset materialised, 1 the run failed (a check, a step, retries spent),
    2 a usage or configuration error (found before anything runs, or a step's configuration
    failure such as a refused login).
    """
    from outcome_pipeline.cli.run import check_range, log_file, preflight, unexpected_error
    from outcome_pipeline.errors import ConfigError
    from outcome_pipeline.settings import Settings

    try:
        settings = Settings.from_env()
        check_range(start, end)
        preflight(settings)
        path = log_file(settings)
    except ConfigError as exc:
        _print_problems(exc)
        return 2
    try:
        if prepare is not None:
            prepare()
        from outcome_pipeline.cli.run import run_range

        return run_range(
            start, end, log_path=path, ephemeral_instance=ephemeral_instance, tags=tags
        ).exit_code
    except ConfigError as exc:
        _print_problems(exc)
        return 2
    except Exception as exc:
        print(f"error: {unexpected_error(exc, path)}", file=sys.stderr)
        return 1


def _print_problems(exc: ConfigError) -> None:
    for problem in exc.problems:
        print(
            textwrap.fill(
                f"error: {problem.paragraph()}", 100, break_on_hyphens=False, break_long_words=False
            ),
            file=sys.stderr,
        )


def _demo(args: argparse.Namespace) -> int:
    """Land the days ending yesterday, make them the whole partition set (OUTCOME_START_DATE
    in ./.env, which `dagster dev` reads too) and run them into the instance the UI shows."""
    from outcome_pipeline.cli.project import (
        business_today,
        demo_days,
        project_home,
        write_demo_env,
    )
    from outcome_pipeline.errors import ConfigError
    from outcome_pipeline.settings import Settings

    if args.days < 1:
        print("error: --days must be >= 1", file=sys.stderr)
        return 2
    try:
        timezone = Settings.from_env().timezone
    except ConfigError as exc:
        _print_problems(exc)
        return 2
    first, last = demo_days(business_today(timezone), args.days, args.start)
    env = {"OUTCOME_START_DATE": first.isoformat()}
    home = None if args.ephemeral_instance else project_home()
    if home is not None and not os.environ.get("DAGSTER_HOME"):
        env["DAGSTER_HOME"] = str(home)
    os.environ.update(env)
    path = write_demo_env(env)
    print(f"{path}: " + ", ".join(f"{k}={v}" for k, v in env.items()) + " (read by dagster dev)")

    def generate_demo() -> None:
        landing = _landing(None)
        os.environ.setdefault("OUTCOME_LANDING_DIR", str(landing))
        _generate(landing, first, args.days, args.interactions_per_day, args.seed, 0.01)

    code = _run_guarded(first, last, generate_demo, args.ephemeral_instance)
    if code != 2:
        settings = Settings.from_env()
        print(f"warehouse: {redact_url(settings.warehouse_url)}")
        from outcome_pipeline.report import PAGE_NAME

        # Written by the run's outcome_report step; the last line, to open in a browser.
        page = Path(settings.report_dir) / PAGE_NAME
        if page.exists():
            print(f"report: {page.resolve()}")
    return code


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from outcome_pipeline.cli.pipe import tolerate_closed_stdout

    with tolerate_closed_stdout():
        return _command(args)


def _command(args: argparse.Namespace) -> int:
    from outcome_pipeline.cli.project import load_env_file

    load_env_file()  # the same ./.env `dagster dev` reads, so both see one configuration
    if args.command == "generate":
        if args.days < 1 or args.interactions_per_day < 1 or not 0 <= args.defect_rate < 1:
            print("error: --days and --interactions-per-day must be >= 1, --defect-rate in [0, 1)")
            return 2
        from outcome_pipeline.generator.vendor import apply_formats, parse_formats

        try:
            formats = parse_formats(args.format)
        except ValueError as exc:
            print(f"error: {exc}")
            return 2
        if any(f != "native" for f in formats.values()) and args.defect_rate:
            print("error: vendor formats are written from clean feeds: use --defect-rate 0")
            return 2
        out = _landing(args.out)
        _generate(
            out,
            args.start,
            args.days,
            args.interactions_per_day,
            args.seed,
            args.defect_rate,
            args.profile,
        )
        days = [args.start + timedelta(days=i) for i in range(args.days)]
        from outcome_pipeline.settings import Settings

        for note in apply_formats(out, days, formats, Settings.from_env().timezone):
            print(note)
        return 0
    if args.command == "run":
        from outcome_pipeline.ingest.readiness import ALLOW_EMPTY_DAYS_TAG

        tags = {ALLOW_EMPTY_DAYS_TAG: "true"} if args.allow_empty_days else {}
        return _run_guarded(
            args.start, args.end, ephemeral_instance=args.ephemeral_instance, tags=tags
        )
    if args.command == "sources":
        return _sources(args)
    if args.command == "docs":
        from outcome_pipeline.docs_gen import write_docs

        for path in write_docs(args.out):
            print(f"wrote {path}")
        return 0
    if args.command == "data-docs":
        from outcome_pipeline.cli.data_docs import serve

        return serve(args)
    if args.command == "demo":
        return _demo(args)
    if args.command == "report":
        from outcome_pipeline.cli.report import write_report
        from outcome_pipeline.errors import ConfigError
        from outcome_pipeline.settings import Settings

        try:
            settings = Settings.from_env()
        except ConfigError as exc:
            _print_problems(exc)
            return 2
        return write_report(args.start, args.end, args.out, settings)
    return 2


if __name__ == "__main__":
    sys.exit(main())
