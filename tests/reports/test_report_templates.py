"""Templates: the committed notebooks, their declarations, the parameters cell as launchpad
config, and the report assets the definitions discover from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

import assets.reports.report_assets as definitions
from clearlake.notebooks_clean import problems
from clearlake.project.load import current_project
from clearlake.reports import render
from clearlake.reports.templates import (
    PLATFORM_TEMPLATES,
    Template,
    TemplateError,
    config_schema,
    discover,
    parse_parameters,
    resolve,
)
from clearlake.settings import DEFAULT_PROJECT, load_settings

EXAMPLE_TEMPLATES = DEFAULT_PROJECT / "notebooks"


def write_template(
    path: Path, parameters_source: str, *, tagged: bool = True, declaration: Any = None
) -> Path:
    cell = render.code_cell(parameters_source, tags=["parameters"] if tagged else None)
    metadata = {"clearlake": declaration} if declaration is not None else {}
    notebook = render.notebook(
        [render.code_cell("import math"), cell, render.code_cell("x")], metadata=metadata
    )
    render.write(notebook, path)
    return path


@pytest.mark.parametrize(
    "path", [*PLATFORM_TEMPLATES.glob("*.ipynb"), *EXAMPLE_TEMPLATES.rglob("*.ipynb")]
)
def test_committed_notebooks_carry_no_outputs(path: Path) -> None:
    """The CI check: outputs stripped, one ``parameters`` cell with literal defaults."""
    assert problems(path) == []
    assert render.cells_with_outputs(render.read(path)) == []


def test_platform_and_example_templates_are_discovered_with_their_scope() -> None:
    found = {t.name: t for t in discover([PLATFORM_TEMPLATES, EXAMPLE_TEMPLATES])}
    assert {n: t.scope for n, t in found.items()} == {
        "candidate_report": "candidate",
        "lake_health": "day",
        "sanity_check": "day",
    }  # explore/ holds scratch notebooks, not templates
    assert found["sanity_check"].declaration.tables == ("flights",)
    assert found["candidate_report"].filled() == {"candidate", "task", "inputs", "provenance"}
    assert all(t.defaults()["provenance"] is None for t in found.values())


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
    template = Template.load(PLATFORM_TEMPLATES / "candidate_report.ipynb")
    schema = config_schema(template, exclude=template.filled())
    assert sorted(schema) == ["metrics", "subgroup_kinds", "top_subgroups"]
    assert schema["top_subgroups"].default_value == 8
    assert schema["metrics"].description == "metrics to show (None = every metric compared)"

    @dg.op(config_schema=schema)
    def probe() -> None: ...

    @dg.job
    def check() -> None:
        probe()

    def valid(values: dict[str, Any]) -> bool:
        try:
            dg.validate_run_config(check, {"ops": {"probe": {"config": values}}})
        except dg.DagsterInvalidConfigError:
            return False
        return True

    assert valid({"top_subgroups": 3, "metrics": ["mae"]}) and valid({"metrics": None})
    assert not valid({"top_subgroups": "three"}) and not valid({"nope": 1})


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


@pytest.mark.parametrize(
    ("source", "tagged", "declaration", "message"),
    [
        ("day = None", False, {"scope": "day"}, r"untagged: needs exactly one cell tagged"),
        ("day = None", True, None, r"declares no scope: add notebook metadata"),
        ("day = None", True, {"scope": "weekly"}, r"unknown scope 'weekly'.*day, candidate"),
        ("day = None", True, {"scope": "day", "owner": "x"}, r"unknown key\(s\) owner"),
        ("x = 1", True, {"scope": "day"}, r"does not assign 'day'.*add `day = None`"),
        ("x = 1", True, {"scope": "candidate"}, r"does not assign 'candidate'"),
        ("x = 1", True, {"scope": "none", "task": "t"}, r"`task` is for scope 'candidate'"),
    ],
)
def test_inconsistent_declarations_fail_naming_the_notebook(
    tmp_path: Path, source: str, tagged: bool, declaration: Any, message: str
) -> None:
    path = write_template(
        tmp_path / "untagged.ipynb", source, tagged=tagged, declaration=declaration
    )
    with pytest.raises(TemplateError, match=message) as raised:
        Template.load(path)
    assert raised.value.template == "untagged"


@pytest.mark.parametrize(
    ("declaration", "source", "message"),
    [
        (
            {"scope": "day", "tables": ["trains"]},
            "day = None",
            r"table 'trains', which is not a lake",
        ),
        ({"scope": "candidate", "task": "nope"}, "candidate = None", r"task 'nope', which .* not"),
    ],
)
def test_unknown_table_or_task_fails_at_definitions_load(
    tmp_path: Path, declaration: Any, source: str, message: str
) -> None:
    template = Template.load(
        write_template(tmp_path / "mine.ipynb", source, declaration=declaration)
    )
    with pytest.raises(TemplateError, match=rf"Report template mine: .*{message}"):
        definitions.template_assets(template, current_project(load_settings()))


def test_resolution_order_defaults_then_config_then_platform() -> None:
    template = Template.load(PLATFORM_TEMPLATES / "lake_health.ipynb")
    resolved = resolve(template, {"trailing_days": 3, "day": "2013-01-02"}, {"day": "2013-01-09"})
    assert (resolved["trailing_days"], resolved["day"], resolved["tolerance"]) == (
        3,
        "2013-01-09",
        0.5,
    )
    with pytest.raises(TemplateError, match=r"'window' is not a parameter of the template"):
        resolve(template, {"window": 3}, {})


def test_report_assets_as_shown_in_the_ui() -> None:
    by_key = {a.key.to_user_string(): a for a in definitions.report_assets()}
    assert sorted(by_key) == [
        "reports/arrival_delay/candidate_report",
        "reports/lake_health",
        "reports/late_arrival/candidate_report",
        "reports/sanity_check",
    ]
    report = by_key["reports/late_arrival/candidate_report"]
    spec = next(iter(report.specs))
    assert spec.group_name == "reports"
    assert spec.kinds == {"jupyter", "html"}
    assert spec.tags["partitioned_by"] == "candidate" and spec.tags["task"] == "late_arrival"
    assert "team:data-science" in spec.owners
    assert spec.description and "baseline" in spec.description
    assert isinstance(report.partitions_def, dg.DynamicPartitionsDefinition)
    assert report.partitions_def.name == "candidates__late_arrival"
    assert {k.to_user_string() for k in report.dependency_keys} == {
        "evaluation/late_arrival/candidate_comparison",
        "evaluation/late_arrival/candidate_predictions",
    }
    template = Template.load(PLATFORM_TEMPLATES / "candidate_report.ipynb")
    assert spec.metadata["template_hash"] == template.content_hash
    assert json.loads(json.dumps(spec.metadata["parameters"].value)) == {
        "metrics": None,
        "subgroup_kinds": None,
        "top_subgroups": 8,
    }
    lake = next(iter(by_key["reports/lake_health"].specs))
    assert {d.asset_key.to_user_string() for d in lake.deps} == {"lake/flights", "lake/weather"}
    sanity = next(iter(by_key["reports/sanity_check"].specs))
    assert {d.asset_key.to_user_string() for d in sanity.deps} == {"lake/flights"}


def test_code_version_follows_the_template_content(tmp_path: Path) -> None:
    path = tmp_path / "sanity_check.ipynb"
    path.write_bytes((EXAMPLE_TEMPLATES / "sanity_check.ipynb").read_bytes())
    project = current_project(load_settings())

    def version() -> str | None:
        [asset] = definitions.template_assets(Template.load(path), project)
        return next(iter(asset.specs)).code_version

    before = version()
    assert version() == before
    notebook = render.read(path)
    notebook.cells[0].source += "\nOne more sentence."
    render.write(notebook, path)
    assert version() != before
