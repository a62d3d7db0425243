"""Process groups stopped as a whole (what ``clearlake ui`` stops its children with).

The real ``clearlake ui`` under SIGTERM is tested in tests/api/test_ui_report_server.py;
SIGINT (Ctrl-C) goes through the same handler, checked here on a real process tree whose
members ignore SIGTERM, without Dagster.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import psutil


def alive(processes: list[psutil.Process]) -> list[str]:
    left = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{process.pid} {' '.join(process.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            pass
    return left


TREE = textwrap.dedent(
    """
    import subprocess, sys
    from pathlib import Path
    from clearlake.cli.process_group import StopRequested, start_group, stop_group, stop_on_signals
    # a child that ignores SIGTERM and a grandchild in the same group
    inner = "import signal, subprocess, sys, time; "
    inner += "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    inner += "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
    inner += "time.sleep(600)"
    with stop_on_signals():
        child = start_group([sys.executable, "-c", inner], cwd=Path.cwd())
        print(child.pid, flush=True)
        try:
            child.wait()
        except StopRequested as request:
            print(request, flush=True)
        finally:
            stop_group(child, grace=2.0)
    print("stopped", flush=True)
    """
)


def test_sigint_stops_a_group_whose_members_ignore_sigterm() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            child = psutil.Process(int(parent.stdout.readline()))
            deadline = time.monotonic() + 30
            while not child.children() and time.monotonic() < deadline:
                time.sleep(0.05)
            started = [child, *child.children(recursive=True)]
            assert len(started) == 2
            parent.send_signal(signal.SIGINT)
            out, _ = parent.communicate(timeout=30)
            assert out.split() == ["SIGINT", "stopped"]
            assert alive(started) == []
        finally:
            parent.kill()
