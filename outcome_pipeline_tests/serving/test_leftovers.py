"""Leftovers of killed runs: the half-built BI file and the engine's spill folders, removed by
the next run when (and only when) this project named them and their process is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest

from outcome_pipeline.leftovers import process_alive
from outcome_pipeline.outcomes.engine import engine_session, remove_dead_spill_folders
from outcome_pipeline.serving import publish_duckdb_copy
from outcome_pipeline_tests.serving.test_publish import bi_rows, make_warehouse


def dead_pid() -> int:
    """The id of a process that has just exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not process_alive(proc.pid)
    return proc.pid


def test_process_alive() -> None:
    assert process_alive(os.getpid())
    assert not process_alive(dead_pid())
    assert not process_alive(0)


def test_a_publish_removes_what_killed_publishes_left_and_nothing_else(tmp_path: Path) -> None:
    source, target = tmp_path / "warehouse.duckdb", tmp_path / "bi.duckdb"
    make_warehouse(source, 10)
    dead, alive = dead_pid(), os.getpid()
    left = [
        tmp_path / f".bi.duckdb.{dead}.0123abcd.tmp",
        tmp_path / f".bi.duckdb.{dead}.0123abcd.tmp.wal",
        tmp_path / f".bi.duckdb.{dead}.89abcdef.tmp",  # a second killed publish
    ]
    spill = tmp_path / f".bi.duckdb.{dead}.0123abcd.tmp.tmp"  # DuckDB's own spill folder
    kept = [
        tmp_path / f".bi.duckdb.{alive}.0123abcd.tmp",  # a publish still running
        tmp_path / f".other.duckdb.{dead}.0123abcd.tmp",  # another target's
        tmp_path / f".bi.duckdb.{dead}.tmp",  # not a name this project gives
        tmp_path / "notes.tmp",
    ]
    for path in [*left, *kept]:
        path.write_bytes(b"x" * 1000)
    left[0].chmod(0o444)  # made read-only just before the rename it never reached
    spill.mkdir()
    (spill / "duckdb_temp_block-1.block").write_bytes(b"x")
    publish_duckdb_copy(source, target, "outcome", with_views=False)
    assert not any(p.exists() for p in [*left, spill])
    assert all(p.exists() for p in kept)
    assert bi_rows(target) == bi_rows(source)


def test_an_engine_session_names_its_spill_folder_and_removes_dead_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = dead_pid()
    left = tmp_path / f"outcome_spill_{dead}_k2j3h4"
    left.mkdir()
    (left / "duckdb_temp_storage-0.tmp").write_bytes(b"x" * 1000)
    kept = [
        tmp_path / f"outcome_spill_{os.getpid()}_abc",  # a session of a live process
        tmp_path / "outcome_spill_k2j3h4",  # named before process ids were part of the name
        tmp_path / f"other_spill_{dead}_abc",
    ]
    for path in kept:
        path.mkdir()
    with engine_session("256MiB") as con:
        (spill,) = con.execute("SELECT current_setting('temp_directory')").fetchone()
        assert Path(spill).parent == tmp_path
        assert Path(spill).name.startswith(f"outcome_spill_{os.getpid()}_")
        assert not left.exists()
    assert not Path(spill).exists()
    assert all(p.exists() for p in kept)
    assert remove_dead_spill_folders(tmp_path) == []


def test_a_killed_engine_session_leaves_a_folder_the_next_session_removes(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    session = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\n"
            "from outcome_pipeline.outcomes.engine import engine_session\n"
            "with engine_session('256MiB') as con:\n"
            "    print(con.execute(\"SELECT current_setting('temp_directory')\").fetchone()[0],"
            " flush=True)\n"
            "    time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        spill = Path(session.stdout.readline().strip())
    finally:
        session.send_signal(signal.SIGKILL)
        session.wait()
    assert spill.parent == tmp_path and spill.name.startswith(f"outcome_spill_{session.pid}_")
    assert spill.is_dir()  # the killed process never removed it
    assert remove_dead_spill_folders(tmp_path) == [spill]


@pytest.mark.slow
def test_a_publish_killed_mid_copy_leaves_a_file_the_next_publish_removes(
    tmp_path: Path,
) -> None:
    source, target = tmp_path / "warehouse.duckdb", tmp_path / "bi.duckdb"
    make_warehouse(source, 10)
    publish_duckdb_copy(source, target, "outcome", with_views=False)
    make_warehouse(source, 200_000)  # enough rows for the copy to take a moment
    publisher = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from outcome_pipeline.serving import publish_duckdb_copy\n"
            "publish_duckdb_copy(sys.argv[1], sys.argv[2], 'outcome', with_views=False)\n",
            str(source),
            str(target),
        ]
    )
    pattern = f".bi.duckdb.{publisher.pid}.*.tmp"
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size > 0 for p in tmp_path.glob(pattern)):
            assert publisher.poll() is None, "the publish ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.001)
    finally:
        publisher.send_signal(signal.SIGKILL)
        publisher.wait()
    assert list(tmp_path.glob(pattern))  # what a crash leaves
    con = duckdb.connect(str(target), read_only=True)  # the published file is untouched
    assert con.execute("SELECT count(*) FROM outcome.load_audit").fetchall() == [(10,)]
    con.close()
    publish_duckdb_copy(source, target, "outcome", with_views=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bi.duckdb", "warehouse.duckdb"]
    assert bi_rows(target) == bi_rows(source)
