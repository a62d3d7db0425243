"""Which engine runs report notebooks: dagstermill, or papermill for in-process runs.

Report assets are dagstermill assets (``dagstermill.define_dagstermill_asset``) wherever
Dagster runs them from a code location: ``dagster dev``/``clearlake ui``, the daemon's
sensors and automation, the cluster's run and step workers, and
``assets.reports.in_process.materialize_report`` (a reconstructable job). dagstermill
cannot run inside ``dg.materialize`` or ``JobDefinition.execute_in_process``: its kernel
rebuilds the run's context from the job's code pointer, and an in-memory job has none
(``DagstermillError: Can't execute a dagstermill asset that is not reconstructable``).
Clients that run the code location in process (the demo loop, the command line, tests)
build the definitions under :func:`papermill_in_process`, which runs the same templates
through papermill with the same files, record and metadata.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Literal

Engine = Literal["dagstermill", "papermill"]
DAGSTERMILL: Engine = "dagstermill"
PAPERMILL: Engine = "papermill"

_ENGINE: contextvars.ContextVar[Engine] = contextvars.ContextVar(
    "clearlake_report_engine", default=DAGSTERMILL
)


def current_engine() -> Engine:
    """The engine report assets built now use (dagstermill unless inside the context)."""
    return _ENGINE.get()


@contextlib.contextmanager
def using(engine: Engine) -> Iterator[None]:
    """Build report assets for ``engine`` while the block runs."""
    token = _ENGINE.set(engine)
    try:
        yield
    finally:
        _ENGINE.reset(token)


def papermill_in_process() -> contextlib.AbstractContextManager[None]:
    """Build report assets that run in process (papermill) while the block runs."""
    return using(PAPERMILL)
