"""What a report kernel runs in its injected cell: inputs handed over, Dagster on demand.

dagstermill rebuilds the whole Dagster job context in every notebook kernel (import
Dagster, reload the definitions, build the plan, open the instance, start the resources):
about as long as a whole report. Most templates never touch it, so here ``context`` is a
real dagstermill context built on first use, and the inputs Dagster already loaded in
the step are handed over through a pickle file. Stdlib-only at import time.

A template that yields Dagster events touches ``context`` first (for example
``context.log.info(...)``), then calls ``dagstermill.yield_event(...)`` as usual.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path
from typing import Any


class LazyDagsterContext:
    """Stands for ``dagstermill``'s run context until an attribute is first read."""

    def __init__(self, arguments: dict[str, str]) -> None:
        self._arguments = arguments
        self._context: Any = None

    def _load(self) -> Any:
        if self._context is None:
            import dagstermill

            self._context = dagstermill._reconstitute_job_context(
                **{k: json.loads(v) for k, v in self._arguments.items()}
            )
        return self._context

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._load(), name)

    def __repr__(self) -> str:
        state = "built" if self._context is not None else "not built yet"
        return f"<Dagster run context ({state}); step {self._arguments.get('step_key')}>"


def load_input(path: str) -> Any:
    """An upstream value as Dagster's IO manager loaded it in the step process."""
    with Path(path).open("rb") as handle:
        return pickle.load(handle)


def teardown() -> None:
    """Tear the Dagster resources down, if the notebook built the context at all."""
    if "dagstermill" in sys.modules:
        sys.modules["dagstermill"]._teardown()
