"""Typed doors to nbformat, nbconvert and IPython (their functions carry no annotations)."""

# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode


def read(path: Path | str) -> NotebookNode:
    return nbformat.read(str(path), as_version=4)


def write(notebook: NotebookNode, path: Path | str) -> None:
    nbformat.write(notebook, str(path))


def writes(notebook: NotebookNode) -> str:
    return str(nbformat.writes(notebook))


def notebook(cells: list[NotebookNode]) -> NotebookNode:
    return nbformat.v4.new_notebook(cells=cells)


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


def html_page(notebook: NotebookNode, *, title: str, show_code: bool) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=not show_code,
    )
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    return str(body)


def display_html(markup: str) -> None:
    from IPython.display import HTML, display

    display(HTML(markup))


def display_raw(bundle: dict[str, Any]) -> None:
    from IPython.display import display

    display(bundle, raw=True)
