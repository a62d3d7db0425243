"""Executed notebooks → what people read: a redacted ``.ipynb`` and a self-contained HTML page.

The injected Dagster context cell carries the serialised job, run and instance
reference (hundreds of lines, possibly connection settings) and temporary paths; the
stored report keeps only what a reader needs: the run id and the inputs it bound. The
HTML page embeds its images and loads nothing from the network (no require.js or
MathJax CDN), so it opens from a file system, an artefact store or the Data API alike.
"""

from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass

import nbformat

from clearlake.reports import nbio

TEMPLATE_CELL = "clearlake"
"""Cell metadata key holding ``{"template_cell": <index in the template>}``."""
CONTEXT_TAG = "injected-parameters"
"""dagstermill's own tag for its context cell."""
SUMMARY_MIMETYPE = "application/vnd.clearlake.summary+json"
"""Display output carrying a report's summary (verdict, …) back to the platform."""
SCRAP_MIMETYPE_PREFIX = "application/scrapbook.scrap"
"""scrapbook's outputs, which carry the events a notebook yields through dagstermill."""
_REMOTE_SCRIPT = re.compile(r'<script src="https?://[^"]*">\s*</script>')
_INPUT_LINE = re.compile(r"^(\w+) = __cl_kernel\.load_input\(")


@dataclass(frozen=True)
class CellFailure:
    """The first cell whose execution raised."""

    cell: int | None
    """Index of the cell in the template (``None`` for a cell the platform injected)."""
    ename: str
    evalue: str
    source_line: str


def template_cell(cell: nbformat.NotebookNode) -> int | None:
    index = cell.get("metadata", {}).get(TEMPLATE_CELL, {}).get("template_cell")
    return int(index) if index is not None else None


def redact_context_cell(notebook: nbformat.NotebookNode, *, run_id: str) -> None:
    """Replace the Dagster context cell by a note naming the run and the inputs it bound."""
    for cell in notebook.cells:
        if CONTEXT_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        names = [m[1] for line in cell.source.splitlines() if (m := _INPUT_LINE.match(line))]
        cell.source = "\n".join(
            [
                f"# Dagster run {run_id}: `context` (dagstermill) and the inputs below were "
                "injected here.",
                *(f"# {name}: loaded by Dagster's IO manager" for name in names),
            ]
        )
        cell.outputs = []  # dagstermill's log lines and beta warnings, not the report's
    papermill = notebook.metadata.get("papermill", {})
    papermill.pop("parameters", None)


def first_failure(notebook: nbformat.NotebookNode) -> CellFailure | None:
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                lines = [line for line in cell.source.splitlines() if line.strip()]
                return CellFailure(
                    cell=template_cell(cell),
                    ename=str(output.get("ename", "Error")),
                    evalue=str(output.get("evalue", "")),
                    source_line=lines[0] if lines else "",
                )
    return None


def add_failure_banner(
    notebook: nbformat.NotebookNode, *, template: str, failure: CellFailure
) -> None:
    where = f"cell {failure.cell}" if failure.cell is not None else "an injected cell"
    banner = (
        '<div style="border:2px solid #c62828;background:#ffebee;padding:0.8em" '
        'class="clearlake-failure">'
        f"<strong>Report failed</strong> in {where} of template "
        f"<code>{html.escape(template)}</code> (<code>{html.escape(failure.source_line)}</code>):"
        f"<br/><code>{html.escape(failure.ename)}: {html.escape(failure.evalue)}</code><br/>"
        "The cells below ran up to the failing one; its traceback is shown in place.</div>"
    )
    notebook.cells.insert(0, nbio.markdown_cell(banner, tags=["clearlake-failure"]))


def _machine_only(output: nbformat.NotebookNode) -> bool:
    """Outputs meant for the platform (summary, dagstermill's scraps), not for readers."""
    return any(
        key == SUMMARY_MIMETYPE or key.startswith(SCRAP_MIMETYPE_PREFIX)
        for key in output.get("data", {})
    )


def _without_summaries(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    page = copy.deepcopy(notebook)
    for cell in page.cells:
        if "outputs" in cell:
            cell.outputs = [o for o in cell.outputs if not _machine_only(o)]
    return page


def to_html(notebook: nbformat.NotebookNode, *, title: str, show_code: bool = False) -> str:
    """The page; code cells are hidden unless asked (a failed report shows them)."""
    body = nbio.html_page(_without_summaries(notebook), title=title, show_code=show_code)
    return _REMOTE_SCRIPT.sub("", body)
