"""Has a day landed? And may a run replace staged days with what it finds? Pure: no Dagster.

Staging replaces whole days, so a run that finds no files for a day writes an empty day. That
is right for a day the source really left empty, and silent damage when the files are simply
not there: a typo in ``OUTCOME_LANDING_DIR``, a day folder moved away, a range in the future.
:func:`landing_refusal` tells the two apart with what the warehouse already holds, and says
what to do in one paragraph when a run must not go ahead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.ingest.landing import LandingPathError, list_day_files
from outcome_pipeline.ingest.mapping import CompiledMapping, day_files

# The run tag (and the CLI flag that sets it) that lets a run stage days with no files anyway.
ALLOW_EMPTY_DAYS_TAG = "outcome/allow_empty_days"
ALLOW_EMPTY_DAYS_FLAG = "--allow-empty-days"
# The table every business day delivers: a day without its files has not landed yet.
# Interactions are the core feed (and what as_of is read from); the CRM and survey feeds may
# legitimately have nothing on a day that has landed.
DAY_TABLE = "interactions"


def allow_empty_days(tags: Mapping[str, str] | None) -> bool:
    """True when the run's tags ask for empty days to be staged (``true``/``1``/``yes``)."""
    value = (tags or {}).get(ALLOW_EMPTY_DAYS_TAG, "")
    return value.strip().lower() in {"true", "1", "yes"}


def day_has_files(
    root: Path, contract: TableContract, day: date, mappings: Sequence[CompiledMapping] = ()
) -> bool:
    """Whether the day holds at least one file of ``contract``'s table: in its own folder, or
    read by one of ``mappings`` (source mappings onto that table, each with its own folder).

    A file that leaves the landing root still counts: staging reports it its own way.
    """
    try:
        if list_day_files(root, contract, day):
            return True
        return any(day_files(root, m, day) for m in mappings if m.contract.name == contract.name)
    except LandingPathError:
        return True


def _span(days: list[date]) -> str:
    days = sorted(days)
    if len(days) == 1:
        return days[0].isoformat()
    return f"{days[0]}..{days[-1]} ({len(days)} days)" if len(days) > 2 else f"{days[0]}, {days[1]}"


@dataclass(frozen=True)
class Refusal:
    """Why a staging run must not go ahead: ``problem`` (what was found) and ``message`` (the
    paragraph for the user: what, which setting, what to do, how to override)."""

    problem: str
    message: str


def landing_refusal(
    root: Path,
    root_exists: bool,
    contract: TableContract,
    days: Iterable[date],
    landed: Iterable[date],
    day_landed: Iterable[date],
    loaded_before: Iterable[date],
) -> Refusal | None:
    """Why staging ``contract``'s table for ``days`` must not run, or None when it may.

    - ``root_exists``: the landing root is a folder. When it is not, every day would be
      staged empty; that is a configuration mistake, never a delivery.
    - ``landed``: days whose folder holds files of the table (:func:`day_has_files`).
    - ``day_landed``: days that have landed at all, i.e. hold files of :data:`DAY_TABLE`.
    - ``loaded_before``: days the warehouse already holds a load with files for the table
      (``load_audit.files > 0``): staging them with nothing would wipe their rows.

    A day without files of the table is also refused when the day has not landed at all (no
    interactions files either), loaded before or not: a future range, yesterday before the
    delivery. Without files of the table on a day that has landed, the table is staged empty.
    """
    days = sorted(days)
    landed_set, before, day_set = set(landed), set(loaded_before), set(day_landed)
    override = (
        f"If the days really are empty and should be staged as empty, rerun with "
        f"{ALLOW_EMPTY_DAYS_FLAG} (`outcome-pipeline run`) or the run tag "
        f"{ALLOW_EMPTY_DAYS_TAG}=true (Dagster UI launchpad)."
    )
    if not root_exists:
        problem = (
            f"{contract.name} {_span(days)}: the landing folder {root} does not exist "
            "(setting OUTCOME_LANDING_DIR)"
        )
        return Refusal(
            problem,
            f"Refused to stage {problem}. Staging would replace these days with nothing; "
            "nothing was changed. Check OUTCOME_LANDING_DIR (a typo, a mount that is not there) "
            f"and run again. {override}",
        )
    missing = [d for d in days if d not in landed_set]
    wiped = [d for d in missing if d in before]
    not_landed = [d for d in missing if d not in day_set]
    if not wiped and not not_landed:
        return None
    refused = sorted(set(wiped) | set(not_landed))
    folder = root / contract.feed
    why = []
    if wiped:
        why.append(
            f"the warehouse already holds staged rows for {_span(wiped)} and this run would "
            "replace them with nothing"
        )
    if not_landed and set(not_landed) - set(wiped):
        why.append(f"no {DAY_TABLE} files either, so these days have not landed yet")
    problem = (
        f"{contract.name} {_span(refused)}: no {contract.name} files in {folder}/<day>/ "
        f"(first missing: {folder / refused[0].isoformat()}); " + "; ".join(why)
    )
    return Refusal(
        problem,
        f"Refused to stage {problem}. Nothing was changed. Check that the files were "
        f"delivered to the landing folder (setting OUTCOME_LANDING_DIR = {root}) or wait for "
        f"the delivery, then run again. {override}",
    )
