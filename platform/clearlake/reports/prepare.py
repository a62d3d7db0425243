"""The notebook that actually runs: the template plus the parameters this run resolved.

papermill's convention keeps the template's own ``parameters`` cell (its defaults run
locally) and adds the resolved values right after it (dagstermill would *replace* it).
For a Dagster run, the Dagster context cell (:mod:`clearlake.reports.execute`) comes
between the two, so the upstream inputs it binds override the template's ``None``
defaults, and a teardown cell ends the notebook. The template's cell is re-tagged so that
exactly one cell, the resolved one, carries ``parameters`` semantics. Every template cell
is stamped with its template index, so a failure can name the cell the author knows.
"""

from __future__ import annotations

import copy
import pprint
from collections.abc import Mapping
from typing import Any

import nbformat

from clearlake.reports import nbio
from clearlake.reports.parameters import codify
from clearlake.reports.render import CONTEXT_TAG, TEMPLATE_CELL
from clearlake.reports.templates import PARAMETERS_TAG, Template

PROVENANCE = "provenance"
TEMPLATE_PARAMETERS_TAG = "template-parameters"
TEARDOWN_TAG = "injected-teardown"
TEARDOWN_SOURCE = "import clearlake.reports.kernel as __cl_kernel\n__cl_kernel.teardown()"
RESOLVED_PARAMETERS_TAG = "clearlake-parameters"


def prepare(
    template: Template, parameters: Mapping[str, Any], *, context_source: str | None = None
) -> nbformat.NotebookNode:
    """The runnable notebook; ``context_source`` is the Dagster context cell (Dagster runs)."""
    notebook = copy.deepcopy(template.notebook)
    for index, cell in enumerate(notebook.cells):
        cell.metadata[TEMPLATE_CELL] = {"template_cell": index}
    own = notebook.cells[template.parameters_cell]
    own.metadata["tags"] = [
        *(t for t in own.metadata.get("tags", []) if t != PARAMETERS_TAG),
        TEMPLATE_PARAMETERS_TAG,
    ]
    injected = [nbio.code_cell(context_source, tags=[CONTEXT_TAG])] if context_source else []
    source = codify(
        {k: v for k, v in parameters.items() if k != PROVENANCE}, "Parameters of this run"
    )
    if PROVENANCE in parameters:
        record = pprint.pformat(parameters[PROVENANCE], width=96, sort_dicts=True)
        source += f"{PROVENANCE} = {record}\n"
    injected.append(nbio.code_cell(source, tags=[RESOLVED_PARAMETERS_TAG]))
    at = template.parameters_cell + 1
    notebook.cells[at:at] = injected
    if context_source:
        notebook.cells.append(nbio.code_cell(TEARDOWN_SOURCE, tags=[TEARDOWN_TAG]))
    notebook.metadata.setdefault("papermill", {})["clearlake_parameters"] = dict(parameters)
    return notebook
