"""`outcome-pipeline sources check|preview`: try source mappings before a run uses them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from outcome_pipeline.ingest.mapping import (
    CompiledMapping,
    MappedDay,
    MappingError,
    compile_mapping,
    map_day,
    map_files,
)
from outcome_pipeline.ingest.mapping.execute import day_files
from outcome_pipeline.ingest.mapping.registry import compile_all, mapping_files

SAMPLE_ROWS = 1000


def _folder(folder: Path | None) -> Path | None:
    from outcome_pipeline.settings import Settings

    if folder is not None:
        return folder
    configured = Settings.from_env().sources_dir
    return Path(configured) if configured else None


def _no_folder() -> int:
    print(
        "error: no sources folder. Set OUTCOME_SOURCES_DIR to the folder holding your mapping "
        "files (*.toml), or pass --dir; the shipped examples are in outcome_pipeline/sources/."
    )
    return 2


def _latest_day_files(landing: Path, m: CompiledMapping) -> tuple[date | None, list]:
    """The most recent day folder of the mapping's feed that holds files it would read."""
    feed = landing / m.spec.source.feed
    if not feed.is_dir():
        return None, []
    for folder in sorted((p for p in feed.iterdir() if p.is_dir()), reverse=True):
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        files = day_files(landing, m, day)
        if files:
            return day, files
    return None, []


def check(folder: Path | None, landing: Path, timezone: str) -> int:
    """Every mapping parses, maps every required column, and runs on a sample of its files."""
    folder = _folder(folder)
    if folder is None:
        return _no_folder()
    if not folder.is_dir():
        print(f"error: the sources folder {folder} does not exist (OUTCOME_SOURCES_DIR or --dir).")
        return 2
    compiled, errors = compile_all(mapping_files(folder), timezone)
    for e in errors:
        print(f"error: {e}")
    failed = bool(errors)
    for m in compiled:
        src = m.spec.source
        head = f"{m.path.name}: {m.lineage} -> {m.contract.name} ({len(m.columns)} columns)"
        day, files = _latest_day_files(landing, m)
        if day is None:
            print(f"ok    {head}; no landed files under {landing / src.feed} to try it on")
            continue
        sample = map_files(m, files, limit=SAMPLE_ROWS)
        for _, error in sample.bad_files:
            print(f"error: {m.path}: {error}")
            failed = True
        print(
            f"{'error' if sample.bad_files else 'ok':<5} {head}; tried on {day} "
            f"({len(files)} file(s)): {sample.typed.num_rows} rows mapped, "
            f"{sample.rejects.num_rows} rejected in the first {SAMPLE_ROWS}"
        )
    if not compiled and not errors:
        print(f"no mapping files (*.toml) in {folder}")
    failed = _check_native(timezone) or failed
    for rel, globs in _unclaimed(landing, compiled):
        print(f"error: {rel} is read by no mapping (this feed folder's globs: {globs})")
        failed = True
    return 1 if failed else 0


def _check_native(timezone: str) -> bool:
    """The native contracts' identity mappings, generated from the contracts: each compiled
    from its TOML text by the compiler every mapping file goes through. True if one fails
    (a contract the mapping language cannot express)."""
    from outcome_pipeline.contracts import CONTRACTS
    from outcome_pipeline.ingest.native_identity import (
        NATIVE_FORMATS,
        identity_lineage,
        identity_toml,
    )

    failed = False
    for table, contract in sorted(CONTRACTS.items()):
        problems, columns = [], 0
        for fmt in NATIVE_FORMATS:
            path = Path(f"<native {table}.{fmt}>")
            try:
                m = compile_mapping(path, timezone, identity_toml(contract, fmt))
            except MappingError as exc:
                problems.append(str(exc))
                continue
            columns = len(m.columns)
        for problem in problems:
            print(f"error: {problem}")
        failed = failed or bool(problems)
        status = "error" if problems else "ok"
        print(
            f"{status:<5} native {table}: {identity_lineage(contract)} -> {table} "
            f"({columns} columns; {', '.join(NATIVE_FORMATS)}), generated from the contract"
        )
    return failed


def _unclaimed(landing: Path, compiled: list[CompiledMapping]) -> list[tuple[str, str]]:
    """Files in the latest day folder of a mapped feed that no mapping's glob matches.

    The staging run reads only matched files; a file nobody reads is named here rather than
    left to go unnoticed.
    """
    by_feed: dict[str, list[CompiledMapping]] = {}
    for m in compiled:
        by_feed.setdefault(m.spec.source.feed, []).append(m)
    out = []
    for feed, ms in sorted(by_feed.items()):
        days = [d for m in ms if (d := _latest_day_files(landing, m)[0]) is not None]
        if not days:
            continue
        folder = landing / feed / max(days).isoformat()
        claimed = {p.name for m in ms for p, _ in day_files(landing, m, max(days))}
        globs = ", ".join(sorted({m.spec.source.glob for m in ms}))
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.name not in claimed:
                out.append((path.relative_to(landing).as_posix(), globs))
    return out


def preview(
    folder: Path | None, landing: Path, timezone: str, name: str, day: date, rows: int
) -> int:
    """The first converted rows of one source for one day, and every rejected row with why."""
    folder = _folder(folder)
    if folder is None:
        return _no_folder()
    compiled, errors = compile_all(mapping_files(folder), timezone) if folder.is_dir() else ([], [])
    chosen = [m for m in compiled if m.name == name or m.path.stem == name]
    if not chosen:
        for e in errors:
            print(f"error: {e}")
        known = ", ".join(sorted(m.name for m in compiled)) or "none"
        print(f"error: no usable source mapping named {name!r} in {folder} (known: {known}).")
        return 2
    result = map_day(landing, chosen[0], day)
    if not result.files and not result.bad_files:
        src = chosen[0].spec.source
        print(f"no files matching {src.glob!r} under {landing / src.feed / day.isoformat()}")
        return 1
    _print_preview(result, rows, day)
    return 1 if result.bad_files else 0


def _print_preview(result: MappedDay, rows: int, day: date) -> None:
    import pandas as pd

    m = result.mapping
    read = sum(f.rows_read for f in result.files)
    print(
        f"{m.lineage} -> {m.contract.name}, {day}: {len(result.files)} file(s), {read} rows read, "
        f"{result.typed.num_rows} mapped, {result.rejects.num_rows} rejected, "
        f"{len(result.bad_files)} file(s) rejected"
    )
    for _, error in result.bad_files:
        print(f"file rejected: {error}")
    if result.typed.num_rows:
        shown = result.typed.slice(0, rows).select([*m.columns, "_source_file", "_source_line"])
        with pd.option_context("display.width", 200, "display.max_columns", None):
            print(shown.to_pandas().to_string(index=False))
    for r in result.rejects.to_pylist():
        print(f"rejected {r['source_file']}:{r['source_line']} [{r['reason_code']}] {r['message']}")
        print(f"    raw: {(r['raw_record'] or '')[:300]}")
