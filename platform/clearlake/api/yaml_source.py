"""YAML files validated against typed models, with errors that name the line.

An operator editing a policy needs "line 14: unknown access 'alow'", not a pydantic
dump. The file is composed once into a node tree (which keeps line numbers); an error's
location (``roles.analyst.classes.restricted``) is walked down that tree to its line.
Duplicate keys are refused: in an access policy, the second ``customer_id:`` silently
winning is a leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from clearlake.api.errors import ConfigFileError

Model = TypeVar("Model", bound=BaseModel)
Location = Sequence[str | int]


class YamlSource:
    """The text of one YAML file, its node tree and its parsed data."""

    def __init__(self, text: str, *, name: str) -> None:
        self.name = name
        try:
            self.root = yaml.compose(text, Loader=yaml.SafeLoader)
            self.data: Any = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            context = ""
            if exc.context and exc.context_mark:
                context = f", {exc.context} on line {exc.context_mark.line + 1}"
            raise ConfigFileError(name, line, f"not valid YAML ({exc.problem}{context})") from None
        except yaml.YAMLError as exc:
            raise ConfigFileError(name, None, f"not valid YAML ({exc})") from None
        if self.root is not None:
            self._refuse_duplicate_keys(self.root)

    def line_of(self, location: Location) -> int | None:
        """Line (1-based) of the deepest node of ``location`` present in the file."""
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in location:
            if isinstance(node, yaml.MappingNode):
                match = next((kv for kv in node.value if kv[0].value == str(part)), None)
                if match is None:
                    break
                line = match[0].start_mark.line + 1
                node = match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    break
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line

    def error(self, location: Location, problem: str) -> ConfigFileError:
        return ConfigFileError(self.name, self.line_of(location), problem)

    def validate(self, model: type[Model]) -> Model:
        """Parse the data into ``model``; the first problem is reported with its line."""
        try:
            return model.model_validate(self.data if self.data is not None else {})
        except ValidationError as exc:
            # A misspelt key shows up as "extra" and as "missing": the extra one has the line.
            errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
            first = errors[0]
            location = [p for p in first["loc"] if p != "[key]"]
            field = ".".join(str(p) for p in location) or "(top level)"
            more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
            raise self.error(location, f"{field}: {first['msg']}{more}") from None

    def _refuse_duplicate_keys(self, node: yaml.Node) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if key.value in seen:
                    raise ConfigFileError(
                        self.name, key.start_mark.line + 1, f"duplicate key {key.value!r}"
                    )
                seen.add(key.value)
                self._refuse_duplicate_keys(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self._refuse_duplicate_keys(item)
