"""Report templates: notebooks with one cell tagged ``parameters`` (papermill's convention).

The parameters cell is the template's interface: each top-level assignment is a
parameter whose literal default lets the notebook run locally, whose annotation (or
default) gives its type in the Dagster launchpad, and whose trailing comment becomes
its description there. Parsing happens when the definitions load, so a broken template
is an error on ``dagster dev``, not an hour later in a run.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from clearlake.reports import nbio
from clearlake.reports.errors import TemplateError
from clearlake.settings import PROJECT_ROOT
from clearlake.versioning import file_version

PARAMETERS_TAG = "parameters"
TEMPLATES_DIR = PROJECT_ROOT / "notebooks"


@dataclass(frozen=True)
class TemplateParameter:
    name: str
    default: Any
    annotation: ast.expr | None
    description: str | None


@dataclass(frozen=True, eq=False)
class Template:
    """A parsed template; ``content_hash`` changes with any byte of the notebook."""

    name: str
    path: Path
    notebook: nbformat.NotebookNode
    parameters_cell: int
    parameters: tuple[TemplateParameter, ...]
    content_hash: str

    @classmethod
    def load(cls, path: Path) -> Template:
        name = path.stem
        if not path.is_file():
            raise TemplateError(name, f"no notebook at {path}; create it or fix the path.")
        notebook = nbio.read(path)
        tagged = [
            i
            for i, cell in enumerate(notebook.cells)
            if PARAMETERS_TAG in cell.get("metadata", {}).get("tags", [])
        ]
        if len(tagged) != 1:
            raise TemplateError(
                name,
                f"needs exactly one cell tagged {PARAMETERS_TAG!r}, found {len(tagged)}; tag the "
                "cell that assigns the defaults (Jupyter: View > Cell toolbar > Tags).",
            )
        index = tagged[0]
        parameters = parse_parameters(name, notebook.cells[index].source)
        return cls(name, path, notebook, index, parameters, file_version(path))

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.parameters}

    def parameter(self, name: str) -> TemplateParameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise TemplateError(
            self.name,
            f"the parameters cell does not assign {name!r}; add `{name} = ...` to it "
            f"(it has {', '.join(p.name for p in self.parameters) or 'no parameters'}).",
        )


def template_path(name: str) -> Path:
    return TEMPLATES_DIR / f"{name}.ipynb"


def _comments(source: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string.lstrip("#").strip()
    return found


def parse_parameters(template: str, source: str) -> tuple[TemplateParameter, ...]:
    """Top-level ``name = literal`` / ``name: type = literal`` statements of the cell."""
    try:
        tree = ast.parse(source)
        comments = _comments(source)
    except (SyntaxError, tokenize.TokenError) as exc:
        raise TemplateError(template, f"the parameters cell is not valid Python: {exc}") from None
    parameters = []
    for statement in tree.body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # a docstring or bare string
        target: ast.expr | None = None
        annotation: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, annotation, value = statement.target, statement.annotation, statement.value
        if not isinstance(target, ast.Name) or value is None:
            raise TemplateError(
                template,
                f"line {statement.lineno} of the parameters cell is not `name = literal`; keep "
                "imports and computations in other cells (the cell is replaced at run time).",
            )
        try:
            default = ast.literal_eval(value)
        except ValueError:
            raise TemplateError(
                template,
                f"parameter {target.id!r} (line {statement.lineno}) has a non-literal default "
                f"`{ast.unparse(value)}`; use a str, number, bool, None, list or dict literal.",
            ) from None
        parameters.append(
            TemplateParameter(target.id, default, annotation, comments.get(statement.lineno))
        )
    return tuple(parameters)


def cells_with_outputs(notebook: nbformat.NotebookNode) -> list[int]:
    """Indexes of code cells that carry outputs or execution counts (must be stripped)."""
    return [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]


def strip_outputs(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notebook
