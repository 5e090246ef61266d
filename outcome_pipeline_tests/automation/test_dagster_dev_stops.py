"""`dagster dev` on this project stops on Ctrl-C, promptly and completely (docs/operations.md).

Ctrl-C sends SIGINT to the terminal's foreground process group: `dagster dev`, its webserver,
daemon and code servers. Nothing of the project (a sensor, a schedule, a held warehouse
connection) may keep any of them alive, so no one needs `kill -9`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).parent / "dagster"
SENSORS = ("late_landing_files", "restate_after_load")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group(pgid: int) -> list[str]:
    ps = subprocess.run(["ps", "-eo", "pid=,pgid=,args="], capture_output=True, text=True)
    return [line for line in ps.stdout.splitlines() if line.split()[1] == str(pgid)]


def _as_a_terminal_starts_it() -> None:
    # A shell without job control starts background jobs with SIGINT ignored (and Dagster
    # then ignores SIGTERM too); a terminal's foreground job has it at the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_ctrl_c_stops_dagster_dev_and_everything_it_started(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "dagster_home" / "dagster.yaml").read_text())
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "OUTCOME_LANDING_DIR": str(tmp_path / "landing"),
        "OUTCOME_WAREHOUSE_URL": f"duckdb:///{tmp_path}/warehouse.duckdb",
        "OUTCOME_DATA_DOCS_DIR": str(tmp_path / "data_docs"),
    }
    log = (tmp_path / "dev.log").open("w")
    dev = subprocess.Popen(
        [str(DAGSTER), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_as_a_terminal_starts_it,
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            assert dev.poll() is None, (tmp_path / "dev.log").read_text()[-3000:]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "dagster dev did not come up in 240 s"
                time.sleep(1)
        # The daemon is up and its sensors have ticked (each logs its first evaluation; the
        # nightly schedule has nothing to tick before its hour).
        ticked = [f"Checking for new runs for sensor: {name}" for name in SENSORS]
        while not all(t in (tmp_path / "dev.log").read_text(errors="replace") for t in ticked):
            assert dev.poll() is None, (tmp_path / "dev.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the sensors did not tick in 240 s"
            time.sleep(0.5)
        t0 = time.monotonic()
        os.killpg(dev.pid, signal.SIGINT)
        assert dev.wait(timeout=60) == 0
        left = _group(dev.pid)
        while left and time.monotonic() - t0 < 60:
            time.sleep(1)
            left = _group(dev.pid)
        stopped_in = time.monotonic() - t0
        print(f"dagster dev and its processes stopped {stopped_in:.1f} s after Ctrl-C")
        assert left == [], "processes left after Ctrl-C"
        assert stopped_in < 45, stopped_in
    finally:
        if dev.poll() is None or _group(dev.pid):
            os.killpg(dev.pid, signal.SIGKILL)
        log.close()
