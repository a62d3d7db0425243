"""The notebook that actually runs: the template plus the parameters this run resolved.

papermill's convention keeps the template's own ``parameters`` cell (its defaults run
locally) and adds the resolved values right after it. dagstermill, by contrast,
*replaces* the first cell tagged ``parameters`` with its context boilerplate, so for a
Dagster run the template's cell is re-tagged and an empty cell tagged ``parameters`` is
placed after it for dagstermill to fill (the upstream inputs it loads then override the
template's ``None`` defaults). Every template cell is stamped with its template index, so
a failure can name the cell the author knows.
"""

from __future__ import annotations

import copy
import pprint
from collections.abc import Mapping
from typing import Any

import nbformat

from clearlake.reports import nbio
from clearlake.reports.parameters import codify
from clearlake.reports.render import TEMPLATE_CELL
from clearlake.reports.templates import PARAMETERS_TAG, Template

PROVENANCE = "provenance"
TEMPLATE_PARAMETERS_TAG = "template-parameters"
RESOLVED_PARAMETERS_TAG = "clearlake-parameters"


def prepare(
    template: Template, parameters: Mapping[str, Any], *, dagstermill: bool
) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(template.notebook)
    for index, cell in enumerate(notebook.cells):
        cell.metadata[TEMPLATE_CELL] = {"template_cell": index}
    own = notebook.cells[template.parameters_cell]
    own.metadata["tags"] = [
        *(t for t in own.metadata.get("tags", []) if t != PARAMETERS_TAG),
        TEMPLATE_PARAMETERS_TAG,
    ]
    injected = [nbio.code_cell("", tags=[PARAMETERS_TAG])] if dagstermill else []
    source = codify(
        {k: v for k, v in parameters.items() if k != PROVENANCE}, "Parameters of this run"
    )
    if PROVENANCE in parameters:
        record = pprint.pformat(parameters[PROVENANCE], width=96, sort_dicts=True)
        source += f"{PROVENANCE} = {record}\n"
    injected.append(nbio.code_cell(source, tags=[RESOLVED_PARAMETERS_TAG]))
    at = template.parameters_cell + 1
    notebook.cells[at:at] = injected
    notebook.metadata.setdefault("papermill", {})["clearlake_parameters"] = dict(parameters)
    return notebook
