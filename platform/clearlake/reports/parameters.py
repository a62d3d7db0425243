"""Template parameters as Dagster config: typed launchpad fields, resolution, injection.

A report's parameters are resolved in one order: the template's defaults, then the
launch's config (launchpad or run config), then what the platform fixes (the partition
key, upstream inputs, the provenance record). The resolved set is what the notebook
sees, what the provenance records and what the report page shows.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping
from typing import Any

import dagster as dg
from papermill.translators import PythonTranslator

from clearlake.reports.errors import TemplateError
from clearlake.reports.templates import Template, TemplateParameter


def _permissive() -> Any:
    return dg.Permissive()  # type: ignore[no-untyped-call]


_SCALARS: dict[str, Any] = {
    "str": dg.String,
    "int": dg.Int,
    "float": dg.Float,
    "bool": dg.Bool,
}


def _from_annotation(node: ast.expr) -> Any:
    if isinstance(node, ast.Name) and node.id in _SCALARS:
        return _SCALARS[node.id]
    if isinstance(node, ast.Name) and node.id == "list":
        return dg.Array(dg.Any)
    if isinstance(node, ast.Name) and node.id == "dict":
        return _permissive()
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [node.left, node.right]
        rest = [s for s in sides if not (isinstance(s, ast.Constant) and s.value is None)]
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
    if isinstance(value, bool):
        return dg.Bool
    if isinstance(value, int):
        return dg.Int
    if isinstance(value, float):
        return dg.Float
    if isinstance(value, str):
        return dg.String
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
            config_type(p),
            is_required=False,
            default_value=p.default,
            description=p.description,
        )
        for p in template.parameters
        if p.name not in exclude
    }


def resolve(
    template: Template, config: Mapping[str, Any] | None, fixed: Mapping[str, Any]
) -> dict[str, Any]:
    """Defaults < launch config < platform-fixed values."""
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


def codify(parameters: Mapping[str, Any], comment: str) -> str:
    """Python source assigning the parameters (papermill's own translator, not dagstermill's)."""
    return PythonTranslator.codify(dict(parameters), comment)
