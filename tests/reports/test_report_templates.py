"""Templates: the committed notebooks, the parameters cell as launchpad config, preparation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster._config.validate import validate_config

from clearlake.notebooks_clean import problems
from clearlake.reports import candidate, nbio
from clearlake.reports.errors import TemplateError
from clearlake.reports.factory import notebook_report_asset, report_code_version
from clearlake.reports.parameters import config_schema, resolve
from clearlake.reports.prepare import RESOLVED_PARAMETERS_TAG, TEMPLATE_PARAMETERS_TAG, prepare
from clearlake.reports.render import template_cell
from clearlake.reports.templates import (
    TEMPLATES_DIR,
    Template,
    cells_with_outputs,
    parse_parameters,
    template_path,
)

TEMPLATES = ["candidate_report", "lake_health", "sanity_check"]


def write_template(path: Path, parameters_source: str, *, tagged: bool = True) -> Path:
    cell = nbio.code_cell(parameters_source)
    if tagged:
        cell.metadata["tags"] = ["parameters"]
    notebook = nbio.notebook(cells=[nbio.code_cell("import math"), cell, nbio.code_cell("x")])
    nbio.write(notebook, path)
    return path


@pytest.mark.parametrize("name", TEMPLATES)
def test_committed_templates_carry_no_outputs(name: str) -> None:
    """The CI check: outputs stripped, one ``parameters`` cell with literal defaults."""
    path = template_path(name)
    assert problems(path) == []
    template = Template.load(path)
    assert cells_with_outputs(template.notebook) == []
    assert template.defaults()["provenance"] is None


def test_no_committed_notebook_carries_outputs() -> None:
    """The same check over every notebook in ``notebooks/`` (templates and examples)."""
    notebooks = sorted(TEMPLATES_DIR.glob("*.ipynb"))
    assert {template_path(name) for name in TEMPLATES} <= set(notebooks)
    assert [problem for path in notebooks for problem in problems(path)] == []


def test_check_finds_outputs(tmp_path: Path) -> None:
    path = tmp_path / "dirty.ipynb"
    notebook = nbio.read(template_path("sanity_check"))
    notebook.cells[1].outputs = [nbio.output("stream", text="hi")]
    nbio.write(notebook, path)
    assert problems(path) == [f"{path}: cell 1 has outputs (strip them before committing)"]
    assert cells_with_outputs(nbio.read(path)) == [1]


def test_parameters_cell_gives_types_defaults_and_descriptions() -> None:
    parameters = parse_parameters(
        "t",
        "day: str | None = None  # the lake day\n"
        'tables: list[str] = ["flights"]\n'
        "top = 8  # how many\n"
        "ratio = 0.5\n"
        "enabled = True\n",
    )
    assert [(p.name, p.default, p.description) for p in parameters] == [
        ("day", None, "the lake day"),
        ("tables", ["flights"], None),
        ("top", 8, "how many"),
        ("ratio", 0.5, None),
        ("enabled", True, None),
    ]


def test_launchpad_config_from_the_parameters_cell() -> None:
    template = Template.load(template_path("candidate_report"))
    schema = config_schema(template, exclude={"candidate", "candidate_comparison", "provenance"})
    assert sorted(schema) == ["metrics", "subgroup_kinds", "top_subgroups"]
    assert schema["top_subgroups"].default_value == 8
    assert schema["metrics"].description == "metrics to show (None = every metric compared)"
    shape = dg.Shape(schema)  # type: ignore[no-untyped-call]
    assert validate_config(shape, {"top_subgroups": 3, "metrics": ["mae"]}).success
    assert validate_config(shape, {"metrics": None}).success
    assert not validate_config(shape, {"top_subgroups": "three"}).success
    assert not validate_config(shape, {"nope": 1}).success


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("day = compute()", r"parameter 'day' \(line 1\) has a non-literal default `compute\(\)`"),
        ("import os", r"line 1 of the parameters cell is not `name = literal`"),
        ("day = (", r"the parameters cell is not valid Python"),
    ],
)
def test_malformed_parameters_cell(source: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_parameters("broken", source)


def test_template_without_parameters_cell(tmp_path: Path) -> None:
    path = write_template(tmp_path / "untagged.ipynb", "day = None", tagged=False)
    with pytest.raises(
        TemplateError, match=r"untagged: needs exactly one cell tagged 'parameters'"
    ):
        Template.load(path)


def test_resolution_order_defaults_then_config_then_platform() -> None:
    template = Template.load(template_path("lake_health"))
    resolved = resolve(template, {"trailing_days": 3, "day": "2013-01-02"}, {"day": "2013-01-09"})
    assert resolved["trailing_days"] == 3
    assert resolved["day"] == "2013-01-09"
    assert resolved["tolerance"] == 0.5
    with pytest.raises(TemplateError, match=r"'window' is not a parameter of the template"):
        resolve(template, {"window": 3}, {})


def test_prepared_notebook_keeps_defaults_and_adds_the_run_parameters() -> None:
    template = Template.load(template_path("candidate_report"))
    prepared = prepare(
        template,
        {"candidate": "m@1a2b3c4", "provenance": {"run_id": "r1"}},
        context_source="context = None",
    )
    index = template.parameters_cell
    tags = [c.metadata.get("tags", []) for c in prepared.cells]
    assert TEMPLATE_PARAMETERS_TAG in tags[index]
    assert tags[index + 1] == ["injected-parameters"]  # the Dagster context and inputs
    assert tags[index + 2] == [RESOLVED_PARAMETERS_TAG]
    assert tags[-1] == ["injected-teardown"]
    assert not any("parameters" in t for t in tags)
    source = prepared.cells[index + 2].source
    assert 'candidate = "m@1a2b3c4"' in source
    assert "provenance = {'run_id': 'r1'}" in source
    assert [template_cell(c) for c in prepared.cells] == [
        *range(index + 1),
        None,
        None,
        *range(index + 1, len(template.notebook.cells)),
        None,
    ]
    direct = prepare(template, {"candidate": "m@1a2b3c4"})
    assert len(direct.cells) == len(template.notebook.cells) + 1


def test_code_version_follows_the_template_content(tmp_path: Path) -> None:
    path = tmp_path / "sanity_check.ipynb"
    shutil.copy(template_path("sanity_check"), path)
    before = report_code_version(Template.load(path))
    assert report_code_version(Template.load(path)) == before
    assert report_code_version(Template.load(path), candidate) != before
    notebook = nbio.read(path)
    notebook.cells[0].source += "\nOne more sentence."
    nbio.write(notebook, path)
    assert report_code_version(Template.load(path)) != before


def test_factory_rejects_a_template_missing_the_partition_parameter(tmp_path: Path) -> None:
    template = Template.load(write_template(tmp_path / "mini.ipynb", "table = 'flights'"))
    with pytest.raises(TemplateError, match=r"mini: the parameters cell does not assign 'day'"):
        notebook_report_asset(
            template,
            description="d",
            owners=["team:x"],
            partitions_def=dg.StaticPartitionsDefinition(["a"]),
            partition_parameter="day",
        )


def test_report_asset_definition_as_shown_in_the_ui() -> None:
    import assets.reports.notebooks as definitions

    by_key = {a.key.to_user_string(): a for a in definitions.report_assets()}
    assert sorted(by_key) == [
        "reports/candidate_report",
        "reports/lake_health",
        "reports/sanity_check",
    ]
    report = by_key["reports/candidate_report"]
    spec = next(iter(report.specs))
    assert spec.group_name == "reports"
    assert spec.kinds == {"jupyter", "html"}
    assert "team:data-science" in spec.owners
    assert spec.description and "baseline" in spec.description
    assert isinstance(report.partitions_def, dg.DynamicPartitionsDefinition)
    assert report.partitions_def.name == "candidates"
    assert {k.to_user_string() for k in report.dependency_keys} == {
        "evaluation/candidate_comparison"
    }
    template = Template.load(template_path("candidate_report"))
    assert spec.code_version == report_code_version(template, candidate)
    assert spec.metadata["template_hash"] == template.content_hash
    assert json.loads(json.dumps(spec.metadata["parameters"].value)) == {
        "metrics": None,
        "subgroup_kinds": ["carrier", "origin", "month"],
        "top_subgroups": 8,
    }
    lake = next(iter(by_key["reports/lake_health"].specs))
    assert {d.asset_key.to_user_string() for d in lake.deps} == {"lake/flights", "lake/weather"}
