"""Report templates: notebooks that declare what one report is about, and their parameters.

A template is any notebook in the platform's ``notebooks/`` or in the project's templates
folder (``reports.templates``; top level only, subfolders hold scratch notebooks). It
declares its **scope** in its own notebook metadata (Jupyter: Edit > Notebook metadata)::

    "clearlake": {"scope": "day", "tables": ["orders"]}   one report per lake day
    "clearlake": {"scope": "day"}                          ... over every daily table
    "clearlake": {"scope": "candidate", "task": "late"}    one report per candidate of a task
    "clearlake": {"scope": "candidate"}                    ... one report asset per task
    "clearlake": {"scope": "none"}                         one unpartitioned report

(optional: ``description``, ``owners``). The scope decides what the platform fills in
(``day`` and ``tables``; ``candidate``, ``task`` and ``inputs``; always ``provenance``
when the cell assigns it). The cell tagged ``parameters`` (papermill's convention) is the
template's interface: each ``name = literal`` is a parameter whose default lets the
notebook run locally, whose annotation (or default) gives its launchpad type and whose
trailing comment its description. Everything is checked when the definitions load, so a
broken template is an error on ``dagster dev`` naming the notebook and the fix.
"""

from __future__ import annotations

import ast
import functools
import io
import tokenize
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from nbformat import NotebookNode

from clearlake.errors import ClearlakeError
from clearlake.project.load import Project
from clearlake.reports import render
from clearlake.settings import PROJECT_ROOT
from clearlake.versioning import file_version

PLATFORM_TEMPLATES = PROJECT_ROOT / "notebooks"


def template_folders(project: Project) -> list[Path]:
    """Where templates are discovered: the platform's, then the project's own."""
    return [PLATFORM_TEMPLATES, project.templates_dir]


PARAMETERS_TAG = "parameters"
METADATA_KEY = "clearlake"
PROVENANCE = "provenance"
Scope = Literal["day", "candidate", "none"]
SCOPES: tuple[str, ...] = ("day", "candidate", "none")
FILLED: dict[str, tuple[str, ...]] = {
    "day": ("day",),
    "candidate": ("candidate",),
    "none": (),
}
"""Parameters a scope's template must assign: the platform sets them from the partition."""
OPTIONAL_FILLED: dict[str, tuple[str, ...]] = {
    "day": ("tables",),
    "candidate": ("task", "inputs"),
    "none": (),
}
_DECLARATION_KEYS = {"scope", "tables", "task", "description", "owners"}
_EXAMPLE = '"clearlake": {"scope": "day", "tables": ["<table>"]}'


class TemplateError(ClearlakeError):
    """A report template is unusable as it stands (found at definition load, not at run time)."""

    def __init__(self, template: str, problem: str) -> None:
        self.template = template
        self.problem = problem
        super().__init__(f"Report template {template}: {problem}")


class ReportExecutionError(ClearlakeError):
    """A cell of a report raised; the partial notebook and its page are kept."""

    def __init__(
        self, *, template: str, partition: str | None, failure: render.CellFailure, page: Path
    ) -> None:
        self.template = template
        self.partition = partition
        self.failure = failure
        self.page = page
        where = f"cell {failure.cell}" if failure.cell is not None else "the injected parameters"
        if failure.source_line:
            where += f" (`{failure.source_line}`)"
        target = f"{template}[{partition}]" if partition else template
        super().__init__(
            f"Report {target} failed in {where} of {template}.ipynb: {failure.ename}: "
            f"{failure.evalue.rstrip('.')}. The partial report is at {page}. Fix the template "
            "or its parameters and re-run."
        )


@dataclass(frozen=True)
class TemplateParameter:
    name: str
    default: Any
    annotation: ast.expr | None
    description: str | None


@dataclass(frozen=True)
class Declaration:
    """What one report of the template is about (the notebook's ``clearlake`` metadata)."""

    scope: Scope
    tables: tuple[str, ...] = ()
    task: str | None = None
    description: str = ""
    owners: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Template:
    """A parsed template; ``content_hash`` changes with any byte of the notebook."""

    name: str
    path: Path
    notebook: NotebookNode
    parameters: tuple[TemplateParameter, ...]
    declaration: Declaration
    content_hash: str = field(default="")

    @classmethod
    def load(cls, path: Path) -> Template:
        name = path.stem
        if not path.is_file():
            raise TemplateError(name, f"no notebook at {path}; create it or fix the path.")
        notebook = render.read(path)
        tagged = [c for c in notebook.cells if PARAMETERS_TAG in render.tags(c)]
        if len(tagged) != 1:
            raise TemplateError(
                name,
                f"needs exactly one cell tagged {PARAMETERS_TAG!r}, found {len(tagged)} in {path}; "
                "tag the cell that assigns the defaults (Jupyter: View > Cell toolbar > Tags).",
            )
        parameters = parse_parameters(name, tagged[0].source)
        declaration = parse_declaration(name, path, notebook.metadata.get(METADATA_KEY))
        template = cls(name, path, notebook, parameters, declaration, file_version(path))
        for required in FILLED[declaration.scope]:
            template.parameter(required)  # raises, naming the missing parameter
        return template

    @property
    def scope(self) -> Scope:
        return self.declaration.scope

    @property
    def description(self) -> str:
        """Declared, else the first paragraph of the first markdown cell."""
        if self.declaration.description:
            return self.declaration.description
        for cell in self.notebook.cells:
            if cell.cell_type == "markdown":
                paragraphs = [p for p in cell.source.split("\n\n") if not p.startswith("#")]
                return paragraphs[0].strip() if paragraphs else cell.source.strip("# \n")
        return f"Report template {self.name}."

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.parameters}

    def filled(self) -> set[str]:
        """Parameters the platform sets (never shown in the launchpad)."""
        names = {*FILLED[self.scope], *OPTIONAL_FILLED[self.scope], PROVENANCE}
        return names & set(self.defaults())

    def parameter(self, name: str) -> TemplateParameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise TemplateError(
            self.name,
            f"the parameters cell of {self.path} does not assign {name!r}, which a "
            f"{self.scope!r}-scoped report receives; add `{name} = None` to it "
            f"(it has {', '.join(p.name for p in self.parameters) or 'no parameters'}).",
        )


def parse_declaration(name: str, path: Path, raw: object) -> Declaration:
    if raw is None:
        raise TemplateError(
            name,
            f"{path} declares no scope: add notebook metadata {_EXAMPLE} (scope: day, "
            "candidate or none; Jupyter: Edit > Notebook metadata).",
        )
    if not isinstance(raw, Mapping):
        raise TemplateError(name, f"notebook metadata 'clearlake' of {path} must be a mapping.")
    unknown = sorted(set(raw) - _DECLARATION_KEYS)
    if unknown:
        raise TemplateError(
            name,
            f"unknown key(s) {', '.join(unknown)} in the 'clearlake' metadata of {path}; "
            f"allowed: {', '.join(sorted(_DECLARATION_KEYS))}.",
        )
    scope = raw.get("scope")
    if scope not in SCOPES:
        raise TemplateError(
            name,
            f"unknown scope {scope!r} in the 'clearlake' metadata of {path}; use one of "
            f"{', '.join(SCOPES)} (e.g. {_EXAMPLE}).",
        )
    tables, task = raw.get("tables") or [], raw.get("task")
    if tables and scope != "day":
        raise TemplateError(name, f"`tables` is for scope 'day', {path} declares {scope!r}.")
    if task is not None and scope != "candidate":
        raise TemplateError(name, f"`task` is for scope 'candidate', {path} declares {scope!r}.")
    return Declaration(
        scope=scope,
        tables=tuple(str(t) for t in tables),
        task=None if task is None else str(task),
        description=str(raw.get("description", "")),
        owners=tuple(str(o) for o in raw.get("owners", [])),
    )


@functools.lru_cache(maxsize=256)
def _load(path: Path, _mtime_ns: int) -> Template:
    return Template.load(path)


def discover(folders: Sequence[Path]) -> list[Template]:
    """Every template of the folders (top level); a name used twice is an error.

    Parsed once per file version: a run loads the definitions several times, and each load
    builds the report assets, the gallery's dependencies and the follow-up jobs from them.
    """
    found: dict[str, Template] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
            template = _load(path, path.stat().st_mtime_ns)
            if template.name in found:
                raise TemplateError(
                    template.name,
                    f"{path} and {found[template.name].path} have the same name: a report "
                    "asset is named after its notebook; rename one of them.",
                )
            found[template.name] = template
    return list(found.values())


# -- the parameters cell ----------------------------------------------------------------


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
                "imports and computations in other cells (the run's values follow the cell).",
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


# -- parameters as launchpad config -----------------------------------------------------

_SCALARS: dict[str, Any] = {"str": dg.String, "int": dg.Int, "float": dg.Float, "bool": dg.Bool}


def _permissive() -> Any:
    return dg.Permissive()  # type: ignore[no-untyped-call]


def _from_annotation(node: ast.expr) -> Any:
    if isinstance(node, ast.Name) and node.id in _SCALARS:
        return _SCALARS[node.id]
    if isinstance(node, ast.Name) and node.id in ("list", "dict"):
        return dg.Array(dg.Any) if node.id == "list" else _permissive()
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        rest = [
            s
            for s in (node.left, node.right)
            if not (isinstance(s, ast.Constant) and s.value is None)
        ]
        if len(rest) == 1:
            return dg.Noneable(_from_annotation(rest[0]))
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        if node.value.id == "Optional":
            return dg.Noneable(_from_annotation(node.slice))
        if node.value.id == "list":
            return dg.Array(_from_annotation(node.slice))
        if node.value.id == "dict":
            return _permissive()
    return dg.Any


def _from_default(value: Any) -> Any:
    for kind, config in ((bool, dg.Bool), (int, dg.Int), (float, dg.Float), (str, dg.String)):
        if isinstance(value, kind):
            return config
    if isinstance(value, list):
        kinds = {type(v) for v in value}
        return dg.Array(_from_default(value[0]) if len(kinds) == 1 else dg.Any)
    if isinstance(value, dict):
        return _permissive()
    return dg.Noneable(dg.Any)


def config_type(parameter: TemplateParameter) -> Any:
    if parameter.annotation is not None:
        kind = _from_annotation(parameter.annotation)
        if parameter.default is None and not isinstance(kind, dg.Noneable):
            kind = dg.Noneable(kind)
        return kind
    return _from_default(parameter.default)


def config_schema(template: Template, *, exclude: Collection[str]) -> dict[str, dg.Field]:
    """Launchpad fields: every template parameter except those the platform fills in."""
    return {
        p.name: dg.Field(
            config_type(p), is_required=False, default_value=p.default, description=p.description
        )
        for p in template.parameters
        if p.name not in exclude
    }


def resolve(
    template: Template, config: Mapping[str, Any] | None, fixed: Mapping[str, Any]
) -> dict[str, Any]:
    """Defaults < launch config < platform-filled values (partition, task, provenance…)."""
    resolved = template.defaults()
    for name, value in {**(config or {}), **fixed}.items():
        if name not in resolved:
            raise TemplateError(
                template.name,
                f"{name!r} is not a parameter of the template; add `{name} = ...` to its "
                "parameters cell or drop it from the run config.",
            )
        resolved[name] = value
    return resolved
