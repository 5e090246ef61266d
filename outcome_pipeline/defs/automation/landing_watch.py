"""Late landing files: what changed in the landing store since it was loaded. Pure: no Dagster.

A file is *late* when it is new, changed or withdrawn in a day folder whose staging partition
was already loaded, after that load began. The sensor keeps a cursor of every file it has
accounted for: path -> (size, mtime, content hash). Size and mtime are the cheap test; the
content hash decides, so a re-delivered identical file (same bytes, new mtime) is not late and
does not restage anything. A file of a day not loaded yet is left out of the cursor: the
nightly run will read it, and if that run started before the file arrived the next look at
the folder finds it late.

When a file arrived is ``max(mtime, ctime)``: an upload renamed into place keeps the mtime of
its temporary file, but the rename sets the ctime.

The sensor watches what staging accounts for, read or quarantined (ingest's own discovery):
a stray file that lands after its day was loaded restages that day, which records it.
A symlink is never followed here (it may leave the landing root): its target names it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from outcome_pipeline.contracts import CONTRACTS, TableContract
from outcome_pipeline.ingest.landing import discover_day, landing_days

CURSOR_VERSION = 1
# Days before the newest day folder that are still watched; older day folders are left to
# manual backfills (and drop out of the cursor, which stays small).
DEFAULT_HORIZON_DAYS = 35
# Content hashed per evaluation at most; the rest waits for the next one (sensor time limit).
DEFAULT_HASH_BUDGET_BYTES = 2 << 30
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class ObservedFile:
    """A landing file as seen now."""

    relative: str  # path below the landing root: the cursor key
    table: str
    day: date
    size: int
    mtime_ns: int
    arrived_ns: int  # max(mtime, ctime): when the file got its current content and name
    path: Path
    link_target: str | None = None  # a link staging does not follow: hashed by its target


@dataclass(frozen=True)
class SeenFile:
    """A file the sensor has accounted for (cursor entry)."""

    table: str
    day: date
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class LandingCursor:
    files: Mapping[str, SeenFile] = field(default_factory=dict)

    def encode(self) -> str:
        return json.dumps(
            {
                "v": CURSOR_VERSION,
                "files": {
                    k: [f.table, f.day.isoformat(), f.size, f.mtime_ns, f.sha256]
                    for k, f in sorted(self.files.items())
                },
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, text: str | None) -> LandingCursor:
        if not text:
            return cls()
        raw = json.loads(text)
        if raw.get("v") != CURSOR_VERSION:
            raise ValueError(f"unknown landing cursor version {raw.get('v')!r}")
        return cls(
            {
                k: SeenFile(t, date.fromisoformat(d), int(s), int(m), h)
                for k, (t, d, s, m, h) in raw["files"].items()
            }
        )


@dataclass(frozen=True)
class LateFiles:
    """Result of one look at the landing store."""

    late: tuple[tuple[str, date, str, str], ...]  # (table, day, relative path, why)
    cursor: LandingCursor
    pending: int  # files left for a later look (day not loaded, or hash budget spent)

    @property
    def table_days(self) -> set[tuple[str, date]]:
        return {(t, d) for t, d, _, _ in self.late}


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _observe(
    root: Path, relative: str, table: str, day: date, read_path: Path | None
) -> ObservedFile:
    path = root / relative
    st = path.lstat()
    link = None
    if read_path is None and path.is_symlink():
        link = os.readlink(path)  # not read by staging: never open what it points at
    else:
        st = (read_path or path).stat()
    return ObservedFile(
        relative=relative,
        table=table,
        day=day,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        arrived_ns=max(st.st_mtime_ns, st.st_ctime_ns),
        path=read_path or path,
        link_target=link,
    )


def scan_landing(
    root: Path,
    contracts: Iterable[TableContract] = CONTRACTS.values(),
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> list[ObservedFile]:
    """Every file staging accounts for, on the days within ``horizon_days`` of the newest.

    The newest day, not the clock, anchors the horizon, so a replay of old data behaves the
    same as the live feed. Files are found with the ingest's own discovery, so the sensor
    watches exactly what staging reads or quarantines, on the day staging reports it.
    """
    root = root.resolve()
    tables = {c.name for c in contracts}
    feeds = sorted({c.feed for c in contracts if c.name in tables})
    days = {feed: landing_days(root, feed) for feed in feeds}
    every_day = [d for ds in days.values() for d in ds]
    if not every_day:
        return []
    oldest = max(every_day) - timedelta(days=horizon_days)
    out: list[ObservedFile] = []
    for feed in feeds:
        for day in (d for d in days[feed] if d >= oldest):
            listing = discover_day(root, feed, day)
            for f in listing.files:
                if f.table in tables:
                    out.append(_observe(root, f.relative, f.table, day, f.path))
            for s in listing.skipped:
                if s.table in tables:
                    out.append(_observe(root, s.relative, s.table, day, None))
    return sorted(out, key=lambda o: (o.table, o.day, o.relative))


def find_late_files(
    cursor: LandingCursor,
    observed: Iterable[ObservedFile],
    loaded_at_ns: Callable[[str, date], int | None],
    hasher: Callable[[Path], str] = file_sha256,
    hash_budget_bytes: int = DEFAULT_HASH_BUDGET_BYTES,
    horizon_start: date | None = None,
) -> LateFiles:
    """Compare the landing store with the cursor; say which (table, day) must be restaged.

    ``loaded_at_ns(table, day)``: when the load that staged that partition last began (epoch
    ns), None if it never was. A file that arrived before that load began was read by it.
    ``horizon_start``: cursor entries of older days are dropped without a trigger (default:
    the oldest observed day).
    """
    observed = list(observed)
    if horizon_start is None and observed:
        horizon_start = min(f.day for f in observed)
    seen = dict(cursor.files)
    now_paths = {f.relative for f in observed}
    kept: dict[str, SeenFile] = {}
    late: list[tuple[str, date, str, str]] = []
    pending = 0
    budget = hash_budget_bytes
    loads: dict[tuple[str, date], int | None] = {}

    def loaded(table: str, day: date) -> int | None:
        if (table, day) not in loads:
            loads[(table, day)] = loaded_at_ns(table, day)
        return loads[(table, day)]

    # Content already accounted for per (table, day): an identical copy under a new name
    # adds no rows staging would keep (same ids; the latest updated_at wins).
    digests: dict[tuple[str, date], set[str]] = {}
    for f in seen.values():
        digests.setdefault((f.table, f.day), set()).add(f.sha256)

    for f in sorted(observed, key=lambda o: o.relative):
        prev = seen.get(f.relative)
        if prev is not None and (prev.size, prev.mtime_ns) == (f.size, f.mtime_ns):
            kept[f.relative] = prev
            continue
        load = loaded(f.table, f.day)
        if load is None or budget < f.size:
            pending += 1
            if prev is not None:
                kept[f.relative] = prev
            continue
        budget -= f.size
        digest = (
            hasher(f.path)
            if f.link_target is None
            else hashlib.sha256(f.link_target.encode()).hexdigest()
        )
        kept[f.relative] = SeenFile(f.table, f.day, f.size, f.mtime_ns, digest)
        if prev is not None and prev.sha256 == digest:
            continue  # re-delivered, same bytes
        if prev is None and digest in digests.get((f.table, f.day), set()):
            continue  # an identical copy of a file already accounted for
        digests.setdefault((f.table, f.day), set()).add(digest)
        if f.arrived_ns < load:
            continue  # the last load of that day read it
        late.append((f.table, f.day, f.relative, "changed" if prev else "new"))

    for rel, prev in seen.items():
        if rel in now_paths or rel in kept:
            continue
        if horizon_start is not None and prev.day < horizon_start:
            continue  # aged out of the watched days: forget it, no trigger
        if loaded(prev.table, prev.day) is not None:
            late.append((prev.table, prev.day, rel, "withdrawn"))
    return LateFiles(tuple(late), LandingCursor(kept), pending)
