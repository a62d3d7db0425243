"""Runs left STARTED by a killed process are marked failed, so no ghost fills the queue.

Dagster's run monitoring cannot do this for runs on this machine: the default run launcher
does not support run-worker health checks, and an in-process run (the CLI's) has no
launcher at all. Every run logs an engine event with its process id when it starts ("Started
process for run", "Executing steps in process"); a run whose process is gone, or whose pid
now belongs to a younger process, is dead. Only instances with the default launcher are
swept: a pid says nothing about a run in a Kubernetes pod (the cluster's run monitoring
watches those).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
OWNER_PID_TAG = "clearlake/pid"
"""The pid of the process that created an in-process run (the CLI, the demo). A run killed
before it logged its own pid (still NOT_STARTED) is swept by this one; runs a launcher
creates carry no such tag and are left to the launcher."""


def owner_tags() -> dict[str, str]:
    """Tags for a run this process creates and executes itself."""
    return {OWNER_PID_TAG: str(os.getpid())}


PID_REUSE_SLACK_SECONDS = 2.0


def run_pid(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The pid of the run's own process and when it was logged (its first pid event)."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = entry.dagster_event
        metadata = event.engine_event_data.metadata if event is not None else {}
        value = metadata.get("pid")
        if value is not None:
            try:
                return int(str(getattr(value, "value", value))), entry.timestamp
            except ValueError:
                continue
    return None


def _process_started_at(pid: int) -> float | None:
    """A process's start time (Linux ``/proc``); None where it cannot be read."""
    try:
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, IndexError, ValueError, StopIteration):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def process_is_alive(pid: int, since: float) -> bool:
    """Whether ``pid`` is the process that logged at ``since`` (not one that reused its id)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    started = _process_started_at(pid)
    return started is None or started <= since + PID_REUSE_SLACK_SECONDS


def dead_runs(
    instance: dg.DagsterInstance, runs: Iterable[dg.DagsterRun] | None = None
) -> list[tuple[dg.DagsterRun, int]]:
    """Unfinished runs (of ``runs``, default: all) whose process is gone, with its pid."""
    if not isinstance(instance.run_launcher, dg.DefaultRunLauncher):
        return []
    if runs is None:
        records = instance.get_run_records(filters=dg.RunsFilter(statuses=UNFINISHED))
        runs = [r.dagster_run for r in records]
    dead = []
    for run in runs:
        if run.status not in UNFINISHED:
            continue
        found = run_pid(instance, run.run_id) or _owner_pid(instance, run)
        if found is not None and not process_is_alive(*found):
            dead.append((run, found[0]))
    return dead


def _owner_pid(instance: dg.DagsterInstance, run: dg.DagsterRun) -> tuple[int, float] | None:
    """The creating process of a run that never logged its own pid, and when it was made."""
    owner = run.tags.get(OWNER_PID_TAG)
    if owner is None or not owner.isdigit():
        return None
    record = instance.get_run_record_by_id(run.run_id)
    if record is None:
        return None
    return int(owner), record.create_timestamp.timestamp()


def fail_dead_runs(
    instance: dg.DagsterInstance, runs: Iterable[dg.DagsterRun] | None = None
) -> list[str]:
    """Mark the dead runs failed (their process was killed); return their ids."""
    failed = []
    for run, pid in dead_runs(instance, runs):
        instance.report_run_failed(
            run,
            f"Marked failed by Clearlake: its process (pid {pid}) is gone (killed or crashed) "
            "while the run was still unfinished.",
        )
        failed.append(run.run_id)
    return failed
