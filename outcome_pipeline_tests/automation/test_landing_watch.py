"""Late landing files: the pure decision (cursor, fingerprints, loads) and the landing scan."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.defs.automation.landing_watch import (
    LandingCursor,
    ObservedFile,
    find_late_files,
    scan_landing,
)

D1, D2 = date(2024, 3, 9), date(2024, 3, 10)
LOAD = 1_000  # when the load of a day began (ns): files arriving before it were read by it


def obs(name: str, day: date, size: int, mtime: int, table: str = "interactions") -> ObservedFile:
    rel = f"interactions/{day}/{name}"
    return ObservedFile(rel, table, day, size, mtime, mtime, Path("/landing") / rel)


def content(mapping: dict[str, str]):
    """A hasher reading 'content' from a dict keyed by file name."""
    return lambda path: mapping[path.name]


def loaded(*days: date):
    return lambda table, day: LOAD if day in days else None


def look(cursor, files, hashes, days=(D1, D2)):
    return find_late_files(cursor, files, loaded(*days), hasher=content(hashes))


def test_files_read_by_the_load_are_recorded_without_a_trigger() -> None:
    r = look(LandingCursor(), [obs("interactions.csv", D1, 10, 500)], {"interactions.csv": "a"})
    assert r.late == () and set(r.cursor.files) == {"interactions/2024-03-09/interactions.csv"}


def test_new_file_after_the_load_triggers_once() -> None:
    base = look(LandingCursor(), [obs("interactions.csv", D1, 10, 500)], {"interactions.csv": "a"})
    files = [obs("interactions.csv", D1, 10, 500), obs("interactions_late.csv", D1, 7, 2_000)]
    hashes = {"interactions.csv": "a", "interactions_late.csv": "b"}
    first = look(base.cursor, files, hashes)
    assert first.table_days == {("interactions", D1)} and first.late[0][3] == "new"
    again = look(first.cursor, files, hashes)  # the next evaluation: nothing new
    assert again.late == ()


def test_identical_redelivery_does_not_trigger_but_changed_content_does() -> None:
    base = look(LandingCursor(), [obs("interactions.csv", D1, 10, 500)], {"interactions.csv": "a"})
    redelivered = look(
        base.cursor, [obs("interactions.csv", D1, 10, 3_000)], {"interactions.csv": "a"}
    )
    assert redelivered.late == ()
    # The cursor now holds the new mtime: the next look does not even hash the file.
    assert redelivered.cursor.files["interactions/2024-03-09/interactions.csv"].mtime_ns == 3_000
    changed = look(
        redelivered.cursor, [obs("interactions.csv", D1, 12, 4_000)], {"interactions.csv": "c"}
    )
    assert changed.table_days == {("interactions", D1)} and changed.late[0][3] == "changed"


def test_identical_copy_under_a_new_name_does_not_trigger() -> None:
    base = look(LandingCursor(), [obs("interactions.csv", D1, 10, 500)], {"interactions.csv": "a"})
    files = [obs("interactions.csv", D1, 10, 500), obs("interactions_copy.csv", D1, 10, 2_000)]
    r = look(base.cursor, files, {"interactions.csv": "a", "interactions_copy.csv": "a"})
    assert r.late == () and len(r.cursor.files) == 2


def test_files_of_days_not_loaded_wait_for_the_load() -> None:
    r = look(LandingCursor(), [obs("interactions.csv", D2, 10, 5_000)], {}, days=(D1,))
    assert r.late == () and r.pending == 1 and r.cursor.files == {}
    # Once loaded by a run that began after the file arrived: read by it, no trigger.
    later = find_late_files(
        r.cursor,
        [obs("interactions.csv", D2, 10, 5_000)],
        lambda t, d: 9_000,
        hasher=content({"interactions.csv": "a"}),
    )
    assert later.late == () and len(later.cursor.files) == 1


def test_a_file_arriving_after_its_load_began_is_late_even_if_never_seen() -> None:
    # The nightly listed the folder, then the file landed: the next look restages the day.
    r = look(
        LandingCursor(), [obs("interactions.csv", D1, 10, LOAD + 1)], {"interactions.csv": "a"}
    )
    assert r.table_days == {("interactions", D1)}


def test_withdrawn_file_triggers_and_aged_out_days_are_forgotten() -> None:
    base = look(
        LandingCursor(),
        [obs("interactions.csv", D1, 10, 500), obs("interactions_x.csv", D2, 10, 500)],
        {"interactions.csv": "a", "interactions_x.csv": "x"},
    )
    r = look(base.cursor, [obs("interactions.csv", D1, 10, 500)], {"interactions.csv": "a"})
    assert r.late[0][2:] == ("interactions/2024-03-10/interactions_x.csv", "withdrawn")
    aged = find_late_files(
        base.cursor,
        [obs("interactions_x.csv", D2, 10, 500)],
        loaded(D1, D2),
        hasher=content({}),
        horizon_start=D2,
    )
    assert aged.late == () and set(aged.cursor.files) == {
        "interactions/2024-03-10/interactions_x.csv"
    }


def test_hash_budget_defers_files_to_the_next_look() -> None:
    files = [obs(f"interactions_{i}.csv", D1, 100, 500) for i in range(3)]
    hashes = {f"interactions_{i}.csv": str(i) for i in range(3)}
    r = find_late_files(LandingCursor(), files, loaded(D1), content(hashes), hash_budget_bytes=250)
    assert len(r.cursor.files) == 2 and r.pending == 1


def test_cursor_round_trips_as_json() -> None:
    r = look(LandingCursor(), [obs("interactions.csv", D1, 10, 500)], {"interactions.csv": "a"})
    assert LandingCursor.decode(r.cursor.encode()) == r.cursor
    assert LandingCursor.decode(None) == LandingCursor()


def test_scan_sees_what_staging_reads_within_the_horizon(tmp_path: Path) -> None:
    for day in ("2024-01-01", "2024-03-01", "2024-03-10"):
        folder = tmp_path / "interactions" / day
        folder.mkdir(parents=True)
        (folder / "interactions.csv").write_text("interaction_id\n1\n")
        (folder / "notes.txt").write_text("not a feed file")
    (tmp_path / "interactions" / "README").write_text("not a day folder")
    found = scan_landing(tmp_path, [CONTRACTS["interactions"]], horizon_days=20)
    # What staging quarantines is watched too, on the day staging reports it (a stray
    # beside the day folders: the newest day).
    assert [(f.relative, f.day) for f in found] == [
        ("interactions/2024-03-01/interactions.csv", date(2024, 3, 1)),
        ("interactions/2024-03-01/notes.txt", date(2024, 3, 1)),
        ("interactions/2024-03-10/interactions.csv", date(2024, 3, 10)),
        ("interactions/2024-03-10/notes.txt", date(2024, 3, 10)),
        ("interactions/README", date(2024, 3, 10)),
    ]
    read = [f for f in found if f.relative.endswith(".csv")]
    assert all(f.arrived_ns >= f.mtime_ns and f.size == 17 for f in read)
