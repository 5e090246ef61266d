"""`outcome-pipeline data-docs`: the Data Docs folder served on the loopback where the UI links."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from outcome_pipeline.validation.docs_server import DEFAULT_URL, docs_url, port_of


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "outcome_pipeline.cli.main", "data-docs", *args],
        # Unbuffered only when the command flushes itself: a pipe must show the URL at once.
        env={**os.environ, "PYTHONUNBUFFERED": "", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


class _Output:
    """Everything a running command prints, line by line, read as it comes."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self.queue: queue.Queue[str] = queue.Queue()
        self.all: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self.thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.all.append(line)
            self.queue.put(line)

    def next_lines(self, n: int, seconds: float = 30) -> list[str]:
        try:
            return [self.queue.get(timeout=seconds) for _ in range(n)]
        except queue.Empty:
            raise AssertionError(f"fewer than {n} lines printed within {seconds} s") from None

    def text(self) -> str:
        self.thread.join(timeout=10)
        return "".join(self.all)


def test_links_and_port_follow_the_configured_base() -> None:
    assert docs_url("http://127.0.0.1:8765/", "cases") == "http://127.0.0.1:8765/cases/index.html"
    assert docs_url("https://docs.example.org/dq", "cases") == (
        "https://docs.example.org/dq/cases/index.html"
    )
    assert port_of(DEFAULT_URL) == 8765
    assert port_of("http://localhost/docs") == 80


def test_the_command_serves_the_folder_on_the_port_of_the_url(tmp_path: Path) -> None:
    docs = tmp_path / "data_docs"
    (docs / "cases").mkdir(parents=True)
    (docs / "cases" / "index.html").write_text("<html><body>cases docs</body></html>")
    port = _free_port()
    env = {
        "OUTCOME_DATA_DOCS_DIR": str(docs),
        "OUTCOME_DATA_DOCS_URL": f"http://127.0.0.1:{port}",
    }
    proc = _cli(env)
    output = _Output(proc)
    try:
        first, listed = output.next_lines(2)
        assert f"at http://127.0.0.1:{port}/" in first and "Ctrl-C" in first
        assert listed.strip() == f"http://127.0.0.1:{port}/cases/index.html"
        with urllib.request.urlopen(listed.strip(), timeout=10) as r:
            assert r.status == 200 and b"cases docs" in r.read()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert proc.returncode == 0
    assert "Traceback" not in output.text()


def test_the_command_explains_a_missing_folder_and_a_busy_port(tmp_path: Path) -> None:
    missing = _cli({"OUTCOME_DATA_DOCS_DIR": str(tmp_path / "nope")})
    out, _ = missing.communicate(timeout=30)
    assert missing.returncode == 1
    assert "OUTCOME_DATA_DOCS_DIR" in out and "Traceback" not in out

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        t0 = time.monotonic()
        proc = _cli({"OUTCOME_DATA_DOCS_DIR": str(tmp_path)}, "--port", str(port))
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1 and time.monotonic() - t0 < 30
    assert f"cannot listen on 127.0.0.1:{port}" in out and "--port" in out
    assert "Traceback" not in out
