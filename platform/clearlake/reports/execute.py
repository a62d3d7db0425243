"""Executing a prepared report notebook for a Dagster step (dagstermill's contract, lazily).

The injected cell carries what dagstermill's own one does, built by dagstermill
(``get_papermill_parameters``: reconstructable job, run, step, instance reference), but
the context is rebuilt only if the notebook uses it (:mod:`clearlake.reports.kernel`),
and inputs come from the step, already loaded by the IO manager. Events the notebook
yields with ``dagstermill.yield_event`` are read back from its scraps, as dagstermill does.
"""

from __future__ import annotations

import json
import pickle
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import papermill
from dagstermill.factory import get_papermill_parameters

from clearlake.reports import nbio
from clearlake.reports.render import SCRAP_MIMETYPE_PREFIX


def context_cell_source(
    context: dg.AssetExecutionContext, inputs: Mapping[str, Any], workdir: Path
) -> str:
    """The injected cell: a lazy dagstermill context and the step's inputs."""
    step_context = context.get_step_execution_context()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # dagstermill's API is Beta: pinned
        parameters = get_papermill_parameters(
            step_context, inputs, str(workdir / "dagstermill.log"), "asset"
        )
    arguments = {
        "executable_dict": parameters["__dm_executable_dict"],
        "job_run_dict": parameters["__dm_pipeline_run_dict"],
        "node_handle_kwargs": parameters["__dm_node_handle_kwargs"],
        "instance_ref_dict": parameters["__dm_instance_ref_dict"],
        "step_key": parameters["__dm_step_key"],
        **parameters["__dm_context"],  # type: ignore[dict-item]
    }
    encoded = {k: json.dumps(v) for k, v in arguments.items()}
    lines = [
        "# Dagster run context: dagstermill rebuilds it here on first use of `context`",
        "import clearlake.reports.kernel as __cl_kernel",
        f"context = __cl_kernel.LazyDagsterContext({encoded!r})",
    ]
    for name, value in inputs.items():
        path = workdir / f"input-{name}.pickle"
        with path.open("wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        lines.append(f"{name} = __cl_kernel.load_input({str(path)!r})")
    return "\n".join(lines)


def run_notebook(prepared: Path, executed: Path, *, attempts: int = 3) -> None:
    """papermill, retrying a kernel that died on start (ZMQ port races between kernels)."""
    for attempt in range(attempts):
        try:
            papermill.execute_notebook(
                str(prepared), str(executed), progress_bar=False, start_timeout=120
            )
            return
        except RuntimeError as exc:
            if "Kernel died before replying" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(1)


def notebook_events(executed: Path) -> Iterator[Any]:
    """Events the notebook yielded through dagstermill (``Failure`` is raised, like dagstermill)."""
    notebook = nbio.read(executed)
    glued = any(
        key.startswith(SCRAP_MIMETYPE_PREFIX)
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        for key in output.get("data", {})
    )
    if not glued:
        return
    import scrapbook

    for key, scrap in scrapbook.read_notebook(str(executed)).scraps.items():
        if key.startswith("event-"):
            with open(scrap.data, "rb") as handle:
                event = pickle.load(handle)
            if isinstance(event, dg.Failure | dg.RetryRequested):
                raise event
            yield event
