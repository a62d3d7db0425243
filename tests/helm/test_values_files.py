"""values.yaml and the profiles: valid for the typed model, every key documented."""

from __future__ import annotations

from typing import Any, get_args, get_origin

import helm_python as helm
import pytest
import yaml
from helm_support import CHART_DIR, aws_profile, local_profile
from pydantic import BaseModel, ValidationError

from clearlake_deploy.helm_values import ClearlakeValues
from clearlake_deploy.kube_types import StrictModel

VALUES = CHART_DIR / "values.yaml"


@pytest.mark.parametrize("profile", [aws_profile, local_profile], ids=["aws", "local"])
def test_profiles_are_valid_for_the_typed_model(chart: helm.Chart, profile: Any) -> None:
    merged = chart.merge_values(profile())  # the coalescing `helm install -f` performs
    values = ClearlakeValues.model_validate(merged)
    assert values.dagster.enabled
    assert values.image.tag


def test_defaults_leave_exactly_the_required_keys_unset(chart: helm.Chart) -> None:
    with pytest.raises(ValidationError) as err:
        ClearlakeValues.model_validate(chart.merge_values({}))
    missing = {
        ".".join(str(part) for part in error["loc"])
        for error in err.value.errors()
        if error["type"] == "missing"
    }
    assert missing == {
        "image.tag",
        "lake.url",
        "dagster.computeLogManager.config.s3ComputeLogManager.bucket",
    }


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is dict:  # keys the user names (node groups): nothing to walk
        return None
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _documented(lines: list[str], line: int) -> bool:
    """A key is documented by a comment on its line or on the line above it."""
    if "#" in lines[line]:
        return True
    above = lines[line - 1].strip().removeprefix("- ").strip()
    return above.startswith("#")


def _walk(
    node: yaml.Node, model: type[BaseModel], path: str, lines: list[str], item: bool = False
) -> list[str]:
    problems: list[str] = []
    if isinstance(node, yaml.SequenceNode):
        for element in node.value:
            problems += _walk(element, model, path + "[]", lines, item=True)
        return problems
    assert isinstance(node, yaml.MappingNode), path
    fields = {(f.alias or name): f for name, f in model.model_fields.items()}
    seen = set()
    for key_node, value_node in node.value:
        key = key_node.value
        seen.add(key)
        field = fields.get(key)
        if field is None:
            continue  # raw Kubernetes fragments and dagster keys Clearlake does not type
        if not _documented(lines, key_node.start_mark.line):
            problems.append(f"{path}{key} has no comment")
        sub_model = _model_of(field.annotation)
        if sub_model is not None and isinstance(value_node, yaml.MappingNode | yaml.SequenceNode):
            problems += _walk(value_node, sub_model, f"{path}{key}.", lines)
    if issubclass(model, StrictModel) and not item:  # list items may omit optional keys
        problems += [f"{path}{key} is missing" for key in fields if key not in seen]
    return problems


def test_every_key_of_values_yaml_is_commented_and_present() -> None:
    text = VALUES.read_text()
    root = yaml.compose(text)
    assert root is not None, "values.yaml is empty"
    problems = _walk(root, ClearlakeValues, "", text.splitlines())
    assert not problems, "values.yaml: " + "; ".join(problems)


def test_values_yaml_marks_the_required_keys() -> None:
    lines = VALUES.read_text().splitlines()
    for key in ("tag: null", "url: null", "bucket: null", 'postgresqlHost: ""'):
        (index,) = [i for i, line in enumerate(lines) if line.strip() == key]
        assert "REQUIRED" in lines[index - 1], f"values.yaml: {key} is not marked REQUIRED"
