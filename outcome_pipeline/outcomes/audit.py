"""Which metric settings computed each stored outcome day, and which days a change leaves
stale. Pure: no Dagster.

The outcome asset writes one ``outcome_audit`` row per computed day in the same transaction
as the day's rows, so the table always says what the stored figures were computed with. A run
under other settings (a changed W, service-level seconds, survey threshold ...) rewrites only
its own days; :func:`settings_drift` names the others and the settings that differ, so the
``metric_settings_consistent`` check can warn instead of history being mixed silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyarrow as pa

from outcome_pipeline.contracts.feeds import TS
from outcome_pipeline.metric_settings import settings_hash
from outcome_pipeline.outcomes.columns import as_of as as_of_column
from outcome_pipeline.warehouse.tables import ColumnDef, TableDef

OUTCOME_AUDIT = TableDef(
    name="outcome_audit",
    comment="The metric settings each stored outcome day was last computed with, one row per "
    "computed day, written in the same transaction as the day's outcome rows. A run under "
    "other settings leaves the other days as they were: the asset check "
    "metric_settings_consistent names them (days to restate) and the settings that differ.",
    columns=(
        ColumnDef(
            "partition_date", pa.date32(), "Business day of the outcome rows (Dagster partition)."
        ),
        ColumnDef(
            "settings_hash",
            pa.string(),
            "16 hex digits naming metric_settings (equal iff the settings are equal); the "
            "metric_settings_hash of the run's materialization metadata.",
        ),
        ColumnDef(
            "metric_settings",
            pa.string(),
            "Every metric-changing setting the day was computed with, as a JSON object "
            "(OutcomeConfig and ValidationConfig; README 'Metric settings').",
        ),
        ColumnDef(as_of_column().name, TS, as_of_column().comment),
    ),
)


def audit_rows(days: Iterable[date], as_of: datetime, settings: Mapping[str, object]) -> pa.Table:
    """The ``outcome_audit`` rows of one run: every computed day, the run's settings."""
    days = list(days)
    text = json.dumps(dict(settings), sort_keys=True, separators=(",", ":"))
    return pa.table(
        {
            "partition_date": days,
            "settings_hash": [settings_hash(dict(settings))] * len(days),
            "metric_settings": [text] * len(days),
            "as_of": [as_of] * len(days),
        },
        schema=OUTCOME_AUDIT.arrow_schema,
    )


MISSING = "(not recorded)"


@dataclass(frozen=True)
class SettingsDrift:
    """Stored days computed under one other configuration (``stored_hash`` None: days
    computed before settings were recorded), and each differing setting (stored, current)."""

    stored_hash: str | None
    days: tuple[date, ...]
    differences: Mapping[str, tuple[object, object]]

    @property
    def ranges(self) -> list[str]:
        return day_ranges(self.days)


def day_ranges(days: Iterable[date]) -> list[str]:
    """Consecutive days as ``first..last`` (a lone day as itself), in order."""
    out: list[list[date]] = []
    for d in sorted(set(days)):
        if out and d - out[-1][1] == timedelta(days=1):
            out[-1][1] = d
        else:
            out.append([d, d])
    return [f"{a}" if a == b else f"{a}..{b}" for a, b in out]


def settings_drift(
    stored: Iterable[tuple[date, str | None, str | None]], current: Mapping[str, object]
) -> list[SettingsDrift]:
    """Stored days whose settings differ from ``current``, one group per stored configuration.

    ``stored``: (day, settings hash, settings JSON) per computed day; hash and JSON None when
    the day has no audit row (computed before the audit existed: its settings are unknown, so
    it is named too). Groups come oldest day first.
    """
    now = settings_hash(dict(current))
    groups: dict[str | None, list[date]] = {}
    texts: dict[str | None, str | None] = {}
    for day, digest, text in stored:
        if digest == now:
            continue
        groups.setdefault(digest, []).append(day)
        texts[digest] = text
    out = []
    for digest, days in groups.items():
        was = json.loads(texts[digest]) if texts[digest] else {}
        differences = {
            k: (was.get(k, MISSING), current.get(k, MISSING))
            for k in sorted(set(was) | set(current))
            if was.get(k, MISSING) != current.get(k, MISSING)
        }
        out.append(SettingsDrift(digest, tuple(sorted(days)), differences))
    return sorted(out, key=lambda g: g.days[0])


def drift_message(drift: list[SettingsDrift]) -> str:
    """One line per stored configuration: the days to restate and what differs."""
    if not drift:
        return "every stored outcome day was computed with the current metric settings"
    lines = []
    for g in drift:
        what = (
            ", ".join(f"{k} {was!r} -> {now!r}" for k, (was, now) in g.differences.items())
            if g.stored_hash is not None
            else "settings not recorded (computed before the audit)"
        )
        lines.append(f"restate {', '.join(g.ranges)} ({len(g.days)} days): {what}")
    return "; ".join(lines)
