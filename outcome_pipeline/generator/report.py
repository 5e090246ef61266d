"""What a generation run wrote: files, counts per table and day, every injected defect.

The report is the answer key for the pipeline's tests: ``rows_written - duplicates`` is the
number of distinct ids a day folder holds for a table, and each defect names the file and
line where the quarantine must find it. It is saved as ``<out_dir>/_manifest.json``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

MANIFEST = "_manifest.json"


@dataclass
class FileRecord:
    path: str  # relative to out_dir, POSIX separators
    feed: str
    table: str
    day: str
    format: str
    rows: int
    bytes: int


@dataclass
class DayStats:
    rows_written: int = 0  # every row in the day's files, duplicates and defective rows included
    duplicates: int = 0  # extra copies of an id already delivered in the same day folder
    defective: int = 0  # rows carrying an injected defect
    late_rows: int = 0  # rows whose event time is on an earlier business day than the folder

    def add(self, other: DayStats) -> None:
        self.rows_written += other.rows_written
        self.duplicates += other.duplicates
        self.defective += other.defective
        self.late_rows += other.late_rows


@dataclass
class GenerationReport:
    """Files, per-table per-day counts, defects and the simulation's ground truth."""

    config: dict[str, object]
    files: list[FileRecord] = field(default_factory=list)
    tables: dict[str, dict[str, DayStats]] = field(default_factory=dict)
    defects: list[dict[str, object]] = field(default_factory=list)
    truth: dict[str, object] = field(default_factory=dict)

    def stats(self, table: str, day: str) -> DayStats:
        return self.tables.setdefault(table, {}).setdefault(day, DayStats())

    def totals(self, table: str) -> DayStats:
        total = DayStats()
        for stats in self.tables.get(table, {}).values():
            total.add(stats)
        return total

    def to_dict(self) -> dict[str, object]:
        return {
            "config": self.config,
            "tables": {
                t: {d: asdict(s) for d, s in sorted(days.items())}
                for t, days in self.tables.items()
            },
            "defects": self.defects,
            "files": [asdict(f) for f in self.files],
            "truth": self.truth,
        }

    def write(self, out_dir: Path) -> Path:
        path = Path(out_dir) / MANIFEST
        path.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n")
        return path

    @classmethod
    def load(cls, out_dir: Path) -> GenerationReport:
        raw = json.loads((Path(out_dir) / MANIFEST).read_text())
        report = cls(config=raw["config"], defects=raw["defects"], truth=raw["truth"])
        report.files = [FileRecord(**f) for f in raw["files"]]
        report.tables = {
            t: {d: DayStats(**s) for d, s in days.items()} for t, days in raw["tables"].items()
        }
        return report

    def summary(self) -> str:
        """A few lines for a human: files, rows, duplicates, defects and late rows per table."""
        fmts: dict[str, int] = {}
        for f in self.files:
            fmts[f.format] = fmts.get(f.format, 0) + 1
        days = sorted({f.day for f in self.files})
        span = f"{days[0]}..{days[-1]}" if days else "no days"
        lines = [
            f"{len(self.files)} files ({', '.join(f'{n} {k}' for k, n in sorted(fmts.items()))}) "
            f"for {span} under {self.config.get('out_dir')}",
            f"{'table':<20} {'rows':>10} {'unique':>10} {'dups':>7} {'defects':>7} {'late':>8}",
        ]
        for table in self.tables:
            s = self.totals(table)
            lines.append(
                f"{table:<20} {s.rows_written:>10,} {s.rows_written - s.duplicates:>10,} "
                f"{s.duplicates:>7,} {s.defective:>7,} {s.late_rows:>8,}"
            )
        kinds: dict[str, int] = {}
        for d in self.defects:
            kinds[str(d["kind"])] = kinds.get(str(d["kind"]), 0) + 1
        if kinds:
            lines.append("defects: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
        return "\n".join(lines)
