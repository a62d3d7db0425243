"""Long-running children stopped as a whole: the process group of each, on SIGTERM or SIGINT.

``dagster dev`` starts a webserver, a daemon and code servers (which start run workers);
a Python process killed by SIGTERM does not stop them, and the webserver keeps its port.
Each child therefore starts in its own session (its own process group, out of the
terminal's reach, so one Ctrl-C is not delivered twice), and stopping sends SIGTERM to the
whole group, waits for the group to empty, then SIGKILLs what is left.

The handlers are installed *before* a child starts: a handled signal is reset to its
default in an exec'd child, while an ignored one stays ignored (a shell's ``cmd &`` ignores
SIGINT, and Dagster maps SIGTERM onto the SIGINT handler, so it would ignore both).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
GRACE_SECONDS = 15.0
"""Dagster's own shutdown waits up to 10 s for its webserver and daemon; a little more."""


class StopRequested(Exception):
    """Raised in the main thread by SIGTERM or SIGINT while :func:`stop_on_signals` holds."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise StopRequested(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGINT raise :class:`StopRequested` in the main thread; restored after."""
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def start_group(
    command: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` as the leader of a new process group (its pid is the group id)."""
    return subprocess.Popen(
        list(command), cwd=cwd, env=None if env is None else dict(env), start_new_session=True
    )


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal is still a member
        return True
    return True


def stop_group(process: subprocess.Popen[bytes], *, grace: float = GRACE_SECONDS) -> None:
    """SIGTERM to the whole group, up to ``grace`` seconds for it to empty, then SIGKILL.

    The leader is reaped here; its orphaned children are reaped by init, so an empty
    group means every process the child started has ended.
    """
    with _deferred_signals():
        _stop(process, grace)


@contextmanager
def _deferred_signals() -> Iterator[None]:
    """A second Ctrl-C while stopping must not abandon the group half-stopped."""
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop(process: subprocess.Popen[bytes], grace: float) -> None:
    pgid = process.pid
    if group_alive(pgid):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if process.poll() is not None and not group_alive(pgid):
            return
        time.sleep(0.1)
    if group_alive(pgid):
        os.killpg(pgid, signal.SIGKILL)
    process.wait()
    while group_alive(pgid) and time.monotonic() < deadline + 5:
        time.sleep(0.05)
