"""Notebooks in and out: typed doors to nbformat/nbconvert, and the page people read.

nbformat and nbconvert carry no annotations; every read, write and HTML export of the
engine goes through here. A page embeds its images and loads nothing from the network (no
require.js or MathJax CDN), so it opens from a file system, an artefact store or the Data
API alike. Code is hidden on a successful report and shown on a failed one, under a banner
naming the template's own cell (papermill's injected cell is not counted).
"""

# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

SUMMARY_MIMETYPE = "application/vnd.clearlake.summary+json"
"""Display output carrying a report's summary (verdict, …) back to the platform."""
PLATFORM_MIMETYPE_PREFIX = "application/vnd.clearlake."
"""Outputs meant for the platform (summary, the dagstermill run's marker), not for readers."""
INJECTED_TAG = "injected-parameters"
"""papermill's (and dagstermill's) tag on the cell it adds with the run's parameters."""
PLATFORM_CELL_TAG = "clearlake-run"
"""The cell the platform adds to a template for dagstermill (not counted either)."""
PAPERMILL_ERROR_TAG = "papermill-error-cell-tag"
"""papermill's tag on the markdown cells it adds around a failure (replaced by our banner)."""
_REMOTE_SCRIPT = re.compile(r'<script src="https?://[^"]*">\s*</script>')


def read(path: Path | str) -> NotebookNode:
    return nbformat.read(str(path), as_version=4)


def reads(text: str | bytes) -> NotebookNode:
    return nbformat.reads(text.decode() if isinstance(text, bytes) else text, as_version=4)


def write(notebook: NotebookNode, path: Path | str) -> None:
    nbformat.write(notebook, str(path))


def writes(notebook: NotebookNode) -> str:
    return str(nbformat.writes(notebook))


def notebook(cells: list[NotebookNode], *, metadata: dict[str, Any] | None = None) -> NotebookNode:
    made = nbformat.v4.new_notebook(cells=cells)
    made.metadata.update(metadata or {})
    return made


def output(output_type: str, **fields: Any) -> NotebookNode:
    """A cell output: ``stream`` (name, text), ``display_data`` (data), ``error`` (…)."""
    return nbformat.v4.new_output(output_type, **fields)


def code_cell(source: str, *, tags: list[str] | None = None) -> NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = tags
    return cell


def markdown_cell(source: str, *, tags: list[str] | None = None) -> NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source)
    if tags:
        cell.metadata["tags"] = tags
    return cell


def tags(cell: NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def read_summary(executed: NotebookNode) -> dict[str, str]:
    """The summary a template published (``publish_summary``; the last one wins)."""
    summary: dict[str, str] = {}
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if SUMMARY_MIMETYPE in data:
                summary.update({k: str(v) for k, v in dict(data[SUMMARY_MIMETYPE]).items()})
    return summary


@dataclass(frozen=True)
class CellFailure:
    """The first cell whose execution raised."""

    cell: int | None
    """Index of the cell in the template (``None``: a cell papermill, dagstermill or the
    platform added)."""
    ename: str
    evalue: str
    source_line: str


def without_papermill_errors(executed: NotebookNode) -> NotebookNode:
    executed.cells = [c for c in executed.cells if PAPERMILL_ERROR_TAG not in tags(c)]
    return executed


def first_failure(executed: NotebookNode) -> CellFailure | None:
    """The failing cell, numbered as in the template (papermill's injected cell skipped)."""
    without_papermill_errors(executed)
    index = 0
    for cell in executed.cells:
        injected = bool({INJECTED_TAG, PLATFORM_CELL_TAG} & set(tags(cell)))
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                lines = [line for line in cell.source.splitlines() if line.strip()]
                return CellFailure(
                    cell=None if injected else index,
                    ename=str(out.get("ename", "Error")),
                    evalue=str(out.get("evalue", "")),
                    source_line=lines[0] if lines else "",
                )
        index += 0 if injected else 1
    return None


def add_failure_banner(notebook: NotebookNode, *, template: str, failure: CellFailure) -> None:
    where = f"cell {failure.cell}" if failure.cell is not None else "the injected parameters"
    banner = (
        '<div style="border:2px solid #c62828;background:#ffebee;padding:0.8em" '
        'class="clearlake-failure">'
        f"<strong>Report failed</strong> in {where} of template "
        f"<code>{html.escape(template)}</code> (<code>{html.escape(failure.source_line)}</code>):"
        f"<br/><code>{html.escape(failure.ename)}: {html.escape(failure.evalue)}</code><br/>"
        "The cells below ran up to the failing one; its traceback is shown in place.</div>"
    )
    notebook.cells.insert(0, markdown_cell(banner, tags=["clearlake-failure"]))


def _for_readers(notebook: NotebookNode) -> NotebookNode:
    """Without the outputs meant for the platform (summary, run marker)."""
    page = copy.deepcopy(notebook)
    for cell in page.cells:
        if "outputs" in cell:
            cell.outputs = [
                o
                for o in cell.outputs
                if not any(m.startswith(PLATFORM_MIMETYPE_PREFIX) for m in o.get("data", {}))
            ]
    return page


def to_html(notebook: NotebookNode, *, title: str, show_code: bool = False) -> str:
    """The page; code cells are hidden unless asked (a failed report shows them)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=not show_code,
    )
    body, _ = exporter.from_notebook_node(
        _for_readers(notebook), resources={"metadata": {"name": title}}
    )
    return _REMOTE_SCRIPT.sub("", str(body))


def cells_with_outputs(notebook: NotebookNode) -> list[int]:
    """Indexes of code cells that carry outputs or execution counts (must be stripped)."""
    return [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
