"""Private Dagster names used only by tests (harnesses that drive the daemon, freeze time,
open an instance from a ref), in one place; see ``test_dagster_internals.py``."""

from __future__ import annotations

from dagster._cli.utils import get_possibly_temporary_instance_for_cli
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.instance import InstanceRef
from dagster._core.storage.dagster_run import FINISHED_STATUSES
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.backfill import execute_backfill_iteration
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)
from dagster._utils.schedules import cron_string_iterator

__all__ = [
    "FINISHED_STATUSES",
    "BulkActionStatus",
    "InstanceRef",
    "ModuleTarget",
    "QueuedRunCoordinatorDaemon",
    "create_test_daemon_workspace_context",
    "cron_string_iterator",
    "execute_backfill_iteration",
    "freeze_time",
    "get_possibly_temporary_instance_for_cli",
]
