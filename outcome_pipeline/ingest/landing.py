"""What lies under a feed's landing folder: files to read, and files to quarantine with why.

Pure discovery: (landing root, feed, day) in, :class:`DayListing` out; nothing is opened.
Every file under ``<root>/<feed>/`` ends in exactly one listing, for exactly one day: read, or
skipped with a reason code (recorded in ``quarantine_files``). Nothing is ignored in silence,
because a file nobody reads is lost rows that no row count can show.

Which day a file outside a valid day folder is reported on (its ``partition_date``):
- a folder whose name reads as a date in a loose form (``2024-1-5``, ``20240105``,
  ``2024-02-30``) is reported on the nearest real day (2024-01-05, 2024-01-05, 2024-02-29):
  the day a person meant, so loading that day fails until the folder is renamed;
- anything else (a file beside the day folders, a ``tmp`` folder) on the feed's newest valid
  day folder: the day the nightly run loads, so it blocks the next run until it is resolved
  (with no valid day folder at all: on every day staged).
A file whose name points at none of the feed's tables is reported for the feed's first table.

Names are matched without regard to case; ``.gz`` and ``.zst`` text files are read as they
are (what both pyarrow and DuckDB decompress natively). A symlink is followed only inside the
landing root, and each real file is read once per day folder.
"""

from __future__ import annotations

import calendar
import functools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from outcome_pipeline.contracts import FEEDS, FILE_FORMATS, TableContract

# Compressions read natively by pyarrow's readers and DuckDB's read_json_objects.
COMPRESSIONS = {"gz": "gzip", "zst": "zstd"}
# Extensions that say "compressed or archived" but that the readers cannot open.
UNSUPPORTED_COMPRESSIONS = frozenset(
    {"zip", "bz2", "xz", "lzma", "7z", "rar", "tar", "tgz", "lz4", "br", "z", "snappy", "zstd"}
)
# Alternative spellings of a format's extension.
FORMAT_ALIASES = {"ndjson": "jsonl"}
# DuckDB reads these in a path as a file pattern: such a name could read another file.
_GLOB_CHARS = frozenset("*?[]{}")
_DAY_NAME = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOOSE_DAY = re.compile(r"(\d{4})[-_./]?(\d{1,2})[-_./]?(\d{1,2})")


class LandingPathError(ValueError):
    """A landing path that would leave the landing root (symlink or '..')."""


@dataclass(frozen=True)
class LandingFile:
    """One file delivered for one table and one business day."""

    path: Path
    relative: str  # path relative to the landing root: what lineage columns and logs show
    table: str
    day: date
    fmt: str
    compression: str | None = None


@dataclass(frozen=True)
class SkippedFile:
    """A file under a feed's folder that is not read, reported on ``day`` for ``table``."""

    relative: str
    table: str
    day: date
    reason: str  # unknown_name, unsupported_compression, bad_day_folder, misplaced, ...
    message: str

    @property
    def error(self) -> str:
        return f"{self.reason}: {self.message}"


@dataclass(frozen=True)
class DayListing:
    files: tuple[LandingFile, ...]
    skipped: tuple[SkippedFile, ...]

    def for_table(self, table: str) -> DayListing:
        return DayListing(
            tuple(f for f in self.files if f.table == table),
            tuple(s for s in self.skipped if s.table == table),
        )


@functools.lru_cache(maxsize=1 << 16)  # asked for every folder of a long history, every day
def is_day_folder_name(name: str) -> bool:
    """``YYYY-MM-DD`` of a real day, exactly (``date.fromisoformat`` also takes ``20240105``)."""
    if not _DAY_NAME.fullmatch(name):
        return False
    try:
        date.fromisoformat(name)
    except ValueError:
        return False
    return True


def nearest_day(name: str) -> date | None:
    """The real day a loosely written day name means: month and day clamped to the calendar."""
    m = _LOOSE_DAY.fullmatch(name.strip())
    if not m:
        return None
    year, month, day = (int(g) for g in m.groups())
    if year < 1:
        return None
    month = min(max(month, 1), 12)
    return date(year, month, min(max(day, 1), calendar.monthrange(year, month)[1]))


def day_folder(root: Path, feed: str, day: date) -> Path:
    """The folder of one feed and one business day, checked to lie inside the landing root."""
    root = root.resolve()
    folder = (root / feed / day.isoformat()).resolve()
    if not folder.is_relative_to(root):
        raise LandingPathError(f"{folder} is outside the landing root {root}")
    return folder


def list_day_files(root: Path, contract: TableContract, day: date) -> list[LandingFile]:
    """Files of ``contract``'s table read for ``day``, in a stable (name) order."""
    return list(discover_day(root, contract.feed, day).for_table(contract.name).files)


def discover_day(
    root: Path, feed: str, day: date, tables: Sequence[str] | None = None
) -> DayListing:
    """Everything under ``<root>/<feed>/`` that belongs to ``day``: files to read, and skips.

    ``tables``: the feed's tables (default: the contracts'); a file whose name starts with
    none of them is reported for the first.
    """
    root = root.resolve()
    tables = tuple(tables or FEEDS[feed])
    feed_dir = root / feed
    if not os.path.lexists(feed_dir):
        return DayListing((), ())
    scan = _Scan(root, tables, day)
    if not _inside(feed_dir, root):
        scan.skip(feed_dir, "outside_root", "the feed folder is a link out of the landing root")
        return scan.listing()
    with os.scandir(feed_dir) as it:  # DirEntry: no stat per day folder of a long history
        entries = sorted(it, key=lambda e: e.name)
    days = {e.name for e in entries if is_day_folder_name(e.name) and e.is_dir()}
    newest = date.fromisoformat(max(days)) if days else None
    wanted = day.isoformat()
    for entry in entries:
        if entry.name in days:
            if entry.name == wanted:
                scan.day_folder(Path(entry.path))
            continue
        loose = nearest_day(entry.name) if entry.is_dir() else None
        if (loose or newest or day) != day:
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            why = f"folder {entry.name!r} is not a day (YYYY-MM-DD)"
            if loose:
                why += f"; rename it to {loose.isoformat()} if its files are of that day"
            scan.walk(path, "bad_day_folder", why)
        else:
            scan.entry(path, "misplaced", "not inside a day folder <feed>/YYYY-MM-DD/")
    return scan.listing()


def landing_days(root: Path, feed: str) -> list[date]:
    """Days discovery reports anything on: valid day folders and the days loose names mean."""
    feed_dir = root / feed
    if not feed_dir.is_dir():
        return []
    days = set()
    with os.scandir(feed_dir) as it:
        for entry in it:
            if is_day_folder_name(entry.name) and entry.is_dir():
                days.add(date.fromisoformat(entry.name))
            elif entry.is_dir() and (loose := nearest_day(entry.name)):
                days.add(loose)
    return sorted(days)


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root)


class _Scan:
    """Collects one day's listing; ``root`` is resolved."""

    def __init__(self, root: Path, tables: tuple[str, ...], day: date) -> None:
        self.root, self.tables, self.day = root, tables, day
        # Longest name first: `cases_history.csv` belongs to a `cases_history` table if any.
        self.by_length = sorted(tables, key=len, reverse=True)
        self.files: list[LandingFile] = []
        self.skipped: list[SkippedFile] = []

    def listing(self) -> DayListing:
        return DayListing(tuple(self.files), tuple(self.skipped))

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()  # lexical: links keep their own name

    def table_of(self, name: str) -> str | None:
        lower = name.lower()
        for t in self.by_length:
            if lower.startswith(t) and (len(lower) == len(t) or lower[len(t)] in "_-. "):
                return t
        return None

    def skip(self, path: Path, reason: str, message: str) -> None:
        table = self.table_of(path.name) or self.tables[0]
        self.skipped.append(SkippedFile(self.rel(path), table, self.day, reason, message))

    def walk(self, folder: Path, reason: str, message: str) -> None:
        """Every file below ``folder`` (links not followed), each skipped with ``reason``."""
        for parent, dirs, names in os.walk(folder):
            # Links to folders are reported, not followed (they may leave the root).
            links = [d for d in dirs if (Path(parent) / d).is_symlink()]
            for name in sorted(names + links):
                self.skip(Path(parent) / name, reason, message)
            dirs[:] = sorted(d for d in dirs if d not in links)

    def entry(self, path: Path, reason: str, message: str) -> None:
        if path.is_dir() and not path.is_symlink():
            self.walk(path, reason, message)
        else:
            self.skip(path, reason, message)

    def day_folder(self, folder: Path) -> None:
        if not _inside(folder, self.root):
            self.skip(folder, "outside_root", "the day folder is a link out of the landing root")
            return
        candidates: list[tuple[Path, LandingFile]] = []
        for path in sorted(folder.iterdir()):
            if path.is_symlink():
                real = path.resolve()
                if not real.is_relative_to(self.root):
                    self.skip(path, "outside_root", "a link out of the landing root: not read")
                    continue
                if not real.exists():
                    self.skip(path, "broken_link", f"a link to {self.rel(real)}, which is missing")
                    continue
                if real.is_dir():
                    self.skip(path, "subfolder", "a link to a folder inside a day folder")
                    continue
            if path.is_dir():
                self.walk(path, "subfolder", "inside a subfolder of the day folder: not read")
            elif not path.is_file():
                self.skip(path, "not_a_file", "not a regular file")
            else:
                lf = self.classify(path)
                if lf is not None:
                    candidates.append((path, lf))
        self.once_per_real_file(candidates)

    def classify(self, path: Path) -> LandingFile | None:
        """The file to read, or None after recording why it is skipped."""
        parts = path.name.lower().split(".")
        compression = None
        if len(parts) > 2 and parts[-1] in COMPRESSIONS:
            compression = COMPRESSIONS[parts.pop()]
        if len(parts) > 1 and parts[-1] in UNSUPPORTED_COMPRESSIONS:
            supported = ", ".join(f".{e}" for e in COMPRESSIONS)
            self.skip(path, "unsupported_compression", f"cannot be read; deliver {supported}")
            return None
        fmt = FORMAT_ALIASES.get(parts[-1], parts[-1]) if len(parts) > 1 else ""
        table = self.table_of(path.name)
        if fmt not in FILE_FORMATS or table is None:
            self.skip(
                path,
                "unknown_name",
                f"expected <table>[_<suffix>].<{'|'.join(FILE_FORMATS)}>[.gz|.zst] "
                f"with <table> one of {', '.join(self.tables)}",
            )
            return None
        if fmt == "parquet" and compression:
            self.skip(
                path,
                "unsupported_compression",
                "Parquet is compressed inside: deliver it as .parquet",
            )
            return None
        if _GLOB_CHARS & set(path.name):
            self.skip(
                path,
                "unknown_name",
                f"the name holds one of {''.join(sorted(_GLOB_CHARS))}: a reader takes it as a "
                "pattern; rename the file",
            )
            return None
        return LandingFile(path.resolve(), self.rel(path), table, self.day, fmt, compression)

    def once_per_real_file(self, candidates: list[tuple[Path, LandingFile]]) -> None:
        """Read each real file once: the file itself before links to it, else the first link."""
        order = sorted(candidates, key=lambda c: (c[0].is_symlink(), c[0].name))
        read: dict[Path, str] = {}
        for path, lf in order:
            if lf.path in read:
                self.skip(path, "duplicate_link", f"a link to {read[lf.path]}, read once")
            elif path.is_symlink() and self.elsewhere_in_a_day_folder(path, lf.path):
                self.skip(
                    path, "duplicate_link", f"a link to {self.rel(lf.path)}, read on its own day"
                )
            else:
                read[lf.path] = lf.relative
                self.files.append(lf)
        self.files.sort(key=lambda f: f.relative)

    def elsewhere_in_a_day_folder(self, link: Path, real: Path) -> bool:
        """Does ``link`` point into another day folder, where discovery reaches ``real``?"""
        parts = real.relative_to(self.root).parts
        own_folder = real.parent == link.parent.resolve()
        return not own_folder and len(parts) == 3 and is_day_folder_name(parts[1])
