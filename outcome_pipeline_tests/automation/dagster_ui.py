"""A Dagster webserver and daemon on real processes, driven through GraphQL as the UI drives
them: start them on the repository's ``workspace.yaml``, wait for the code location, switch the
automation off, launch and follow a backfill. Used by the UI backfill tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the project's venv: dagster-webserver, dagster-daemon
LOCATION = "outcome_pipeline"
# A limit, not a wait: the backfills finish in 1-2 min on a quiet machine; the margin is
# for a loaded one (a run process took ~40 s at load 13).
BACKFILL_TIMEOUT_S = 420
STARTUP_TIMEOUT_S = 90
# The backfill daemon sleeps DEFAULT_DAEMON_INTERVAL_SECONDS (30 s, not configurable from
# dagster.yaml) between iterations, and a backfill takes three of them (request staging,
# request what staging unblocked, see it complete); the run queue is looked at every 5 s. The
# tests' daemon is `dagster-daemon` itself with both intervals shortened, and the instance's
# dagster.yaml left as users have it: what the backfill requests and runs is unchanged, only
# how soon the daemon looks again.
DAEMON_INTERVAL_S = 5
DEQUEUE_INTERVAL_S = 2
_FAST_DAEMON = (
    "import sys\n"
    "import dagster._daemon.controller as controller\n"
    "from dagster._core.run_coordinator.queued_run_coordinator import QueuedRunCoordinator\n"
    f"controller.DEFAULT_DAEMON_INTERVAL_SECONDS = {DAEMON_INTERVAL_S}\n"
    f"QueuedRunCoordinator.dequeue_interval_seconds = property(lambda _: {DEQUEUE_INTERVAL_S})\n"
    "from dagster._daemon.cli import main\n"
    "sys.argv[0] = 'dagster-daemon'\n"
    "main()\n"
)


def command(name: str) -> list[str]:
    """The argv that starts the venv's ``name`` (``dagster-daemon``: with the short backfill
    interval above)."""
    if name == "dagster-daemon":
        return [sys.executable, "-c", _FAST_DAEMON]
    return [str(BIN / name)]


# -- processes ------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: Path
    log: IO[bytes]
    stopped: bool = False

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        """End the process and its children (code servers, run workers): its process group,
        TERM first (the webserver and daemon shut their code servers down), then KILL for
        whatever is left of the group. Idempotent."""
        if self.stopped:
            return
        self.stopped = True
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)
        self.log.close()

    def tail(self, lines: int = 150) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Dagster:
    """A webserver and a daemon on one temporary instance, as `dagster dev` runs them."""

    home: Path
    env: dict[str, str]
    port: int
    processes: list[Process] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, name: str, *args: str) -> Process:
        log_path = self.home / f"{name}.log"
        log = log_path.open("wb")
        popen = subprocess.Popen(
            [*command(name), *args, "-w", str(REPO / "workspace.yaml")],
            cwd=self.home,  # relative default paths, if any, land in the temp dir
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop() ends its children too
        )
        process = Process(name, popen, log_path, log)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for p in reversed(self.processes):
            p.stop()

    def logs(self) -> str:
        return "\n".join(
            f"----- {p.name} (exit {p.popen.poll()}) {p.log_path} -----\n{p.tail()}"
            for p in self.processes
        )

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise AssertionError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


WORKSPACE_QUERY = """
query {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message stack }
          ... on RepositoryLocation {
            repositories {
              name
              sensors { name sensorState { id status } }
              schedules { name scheduleState { id status } }
            }
          }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

# What the UI's sensor and schedule switches send (the instigation state ids).
STOP_SENSOR = """
mutation($id: String!) {
  stopSensor(id: $id) {
    __typename
    ... on StopSensorMutationResult { instigationState { status } }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
  }
}
"""
STOP_SCHEDULE = """
mutation($id: String!) {
  stopRunningSchedule(id: $id) {
    __typename
    ... on ScheduleStateResult { scheduleState { status } }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
    ... on ScheduleNotFoundError { message }
  }
}
"""

# The UI's mutation (ui-core/src/instance/backfill/BackfillUtils.tsx, dagster-webserver 1.13.27;
# Apollo adds __typename), against LaunchBackfillParams in dagster_graphql/schema/inputs.py.
LAUNCH_PARTITION_BACKFILL = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PartitionSetNotFoundError { message }
    ... on PartitionKeysNotFoundError { message }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
    ... on UnauthorizedError { message }
    ... on PipelineNotFoundError { message }
    ... on RunConflict { message }
    ... on ConflictingExecutionParamsError { message }
    ... on PresetNotFoundError { message }
    ... on RunConfigValidationInvalid { pipelineName errors { message path reason } }
    ... on PythonError { message stack }
  }
}
"""

BACKFILL_QUERY = """
query($id: String!, $probe: AssetKeyInput!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      status
      error { message stack }
      partitionsTargetedForAssetKey(assetKey: $probe) { ranges { start end } }
      runs {
        runId
        status
        tags { key value }
        assetSelection { path }
      }
    }
    ... on PythonError { message }
    ... on BackfillNotFoundError { message }
  }
}
"""

RUN_ERRORS_QUERY = """
query($runId: ID!) {
  logsForRun(runId: $runId) {
    __typename
    ... on EventConnection {
      events {
        __typename
        ... on MessageEvent { message level stepKey }
        ... on ExecutionStepFailureEvent { error { message stack } }
        ... on RunFailureEvent { error { message } }
      }
    }
  }
}
"""

ALL_RUNS_QUERY = """
query {
  runsOrError {
    __typename
    ... on Runs { results { runId jobName status tags { key value } } }
  }
}
"""


def wait_until_loaded(dagster: Dagster, webserver: Process) -> dict[str, Any]:
    """Wait for /server_info, then for the code location; return its repository."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last = "no answer yet"
    while time.monotonic() < deadline:
        if not webserver.alive():
            pytest.fail(f"dagster-webserver exited early\n{dagster.logs()}")
        try:
            with urllib.request.urlopen(f"{dagster.url}/server_info", timeout=5) as r:
                json.loads(r.read())
            entries = dagster.gql(WORKSPACE_QUERY)["workspaceOrError"]["locationEntries"]
            (entry,) = [e for e in entries if e["name"] == LOCATION]
            loaded = entry["locationOrLoadError"]
            if loaded and loaded["__typename"] == "PythonError":
                pytest.fail(f"code location failed to load: {loaded['message']}\n{loaded['stack']}")
            if entry["loadStatus"] == "LOADED" and loaded:
                (repo,) = loaded["repositories"]
                return repo
            last = f"location {entry['loadStatus']}"
        except (urllib.error.URLError, ConnectionError, OSError, ValueError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.5)
    pytest.fail(f"webserver not ready after {STARTUP_TIMEOUT_S}s ({last})\n{dagster.logs()}")


def stop_automation(dagster: Dagster, repo: dict[str, Any]) -> list[str]:
    """Switch off every sensor and schedule (they default to RUNNING), as the UI toggles do."""
    stopped = []
    for sensor in repo["sensors"]:
        if sensor["sensorState"]["status"] == "RUNNING":
            result = dagster.gql(STOP_SENSOR, {"id": sensor["sensorState"]["id"]})["stopSensor"]
            assert result.get("instigationState", {}).get("status") == "STOPPED", result
            stopped.append(sensor["name"])
    for schedule in repo["schedules"]:
        if schedule["scheduleState"]["status"] == "RUNNING":
            result = dagster.gql(STOP_SCHEDULE, {"id": schedule["scheduleState"]["id"]})
            state = result["stopRunningSchedule"].get("scheduleState", {})
            assert state.get("status") == "STOPPED", result
            stopped.append(schedule["name"])
    return stopped


def run_errors(dagster: Dagster, run_id: str) -> str:
    logs = dagster.gql(RUN_ERRORS_QUERY, {"runId": run_id})["logsForRun"]
    out = []
    for e in logs.get("events", []):
        if e.get("error"):
            out.append(f"{e['__typename']}: {e['error']['message']}")
        elif e.get("level") == "ERROR":
            out.append(f"{e.get('stepKey')}: {e['message']}")
    return "\n".join(out) or "(no error events)"


def wait_for_backfill(dagster: Dagster, backfill_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + BACKFILL_TIMEOUT_S
    variables = {"id": backfill_id, "probe": {"path": ["daily_outcomes"]}}
    while True:
        backfill = dagster.gql(BACKFILL_QUERY, variables)["partitionBackfillOrError"]
        assert backfill["__typename"] == "PartitionBackfill", backfill
        status = backfill["status"]
        if status in ("COMPLETED", "COMPLETED_SUCCESS"):
            return backfill
        done = status not in ("REQUESTED", "CANCELING", "FAILING")
        dead = [p.name for p in dagster.processes if not p.alive()]
        if done or dead or time.monotonic() > deadline:
            why = f"backfill {status}" if done else "processes exited" if dead else "timed out"
            runs = "\n".join(
                f"run {r['runId']} {r['status']}:\n{run_errors(dagster, r['runId'])}"
                for r in backfill["runs"]
                if r["status"] != "SUCCESS"
            )
            pytest.fail(
                f"{why} (exited: {dead}); backfill error: {backfill['error']}\n"
                f"{runs}\n{dagster.logs()}"
            )
        time.sleep(2)
