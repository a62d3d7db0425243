"""The webserver and daemon commands Clearlake mirrors, held to the official dagster chart's
own lines.

An excerpt of the upstream templates (fixtures/dagster_chart_commands.txt: the command lines
only, each section with its source path and commit) is rendered by Helm with the values the
umbrella chart hands to the subchart; the result must equal
``clearlake_deploy.dagster_instance.dagster_containers`` (what the stack test runs) for each
profile and for each flag the upstream helper reads. When the packaged chart is present,
every excerpt section must also stand verbatim in it.
"""

from __future__ import annotations

import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from helm_support import (
    DAGSTER_DEPENDENCY,
    NAMESPACE,
    RELEASE,
    SUBCHART_MISSING,
    SUBCHART_PACKAGE,
    aws_profile,
    deep_merge,
    local_profile,
)

from clearlake_deploy.dagster_instance import dagster_containers
from clearlake_deploy.dagster_values import DagsterValues

FIXTURE = Path(__file__).parent / "fixtures" / "dagster_chart_commands.txt"
HELPERS = "templates/helpers/_helpers.tpl"
WEBSERVER = "templates/helpers/_deployment-webserver.tpl"
DAEMON = "templates/deployment-daemon.yaml"
UPSTREAM_DEFAULTS: dict[str, Any] = {"dagsterWebserver": {"service": {"port": 80}}}
"""What the dagster chart's values.yaml gives the keys these lines read that Clearlake's
values leave unset (checked against the package when it is present)."""
BACKCOMPAT_STAND_IN = """{{- define "dagster.backcompat" -}}
{{ mustToJson (dict "Values" (dict "dagsterWebserver" .Values.dagsterWebserver)) }}
{{- end -}}
"""
"""Upstream's ``dagster.backcompat`` merges the pre-1.4 ``dagit`` values into
``dagsterWebserver`` and returns them as JSON. Clearlake sets no ``dagit`` values (checked
below), for which this stand-in returns the same; it is ours, not part of the excerpt."""


@dataclass(frozen=True)
class Section:
    path: str
    commit: str
    text: str


def excerpt() -> dict[str, Section]:
    """The fixture's sections by upstream path; the header comment is not part of any."""
    sections: dict[str, Section] = {}
    current: tuple[str, str] | None = None
    lines: list[str] = []

    def close() -> None:
        if current is not None:
            sections[current[0]] = Section(current[0], current[1], "\n".join(lines))

    for line in FIXTURE.read_text().splitlines():
        opened = re.fullmatch(r"# @@ (\S+) @ ([0-9a-f]{40})", line)
        if opened:
            close()
            current, lines = (opened[1], opened[2]), []
        elif current is not None:
            lines.append(line)
    close()
    return sections


def render_upstream_lines(tmp_path: Path, values: dict[str, Any]) -> dict[str, list[str]]:
    """The excerpt as Helm renders it: a chart named like the subchart holding only it."""
    sections = excerpt()
    chart_dir = tmp_path / "dagster"
    (chart_dir / "templates").mkdir(parents=True)
    chart_yaml = {"apiVersion": "v2", "name": "dagster", "version": DAGSTER_DEPENDENCY["version"]}
    (chart_dir / "Chart.yaml").write_text(yaml.safe_dump(chart_yaml))
    helpers = sections[HELPERS].text + "\n" + BACKCOMPAT_STAND_IN
    (chart_dir / "templates" / "_commands.tpl").write_text(helpers)
    containers = f"webserver:\n{sections[WEBSERVER].text}\ndaemon:\n{sections[DAEMON].text}\n"
    (chart_dir / "templates" / "containers.yaml").write_text(containers)
    chart = helm.Chart.load(chart_dir)
    try:
        rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    finally:
        chart.close()
    (text,) = [t for path, t in rendered.items() if path.endswith("containers.yaml")]
    document = yaml.safe_load(text)
    return {name: document[name]["command"] for name in ("webserver", "daemon")}


def subchart_values(profile: dict[str, Any]) -> dict[str, Any]:
    """What the subchart sees: Clearlake's merged ``dagster:`` over the upstream defaults."""
    merged = helm.Chart.load(Path(__file__).resolve().parents[2] / "helm" / "clearlake")
    try:
        dagster = merged.merge_values(profile)["dagster"]
    finally:
        merged.close()
    assert "dagit" not in dagster  # what makes BACKCOMPAT_STAND_IN equal to upstream's
    return deep_merge(UPSTREAM_DEFAULTS, dagster)


def mirrored(values: dict[str, Any]) -> dict[str, list[str]]:
    containers = dagster_containers(DagsterValues.model_validate(values))
    return {name: spec["command"] for name, spec in containers.items()}


def test_the_excerpt_names_its_source_and_holds_command_lines_only() -> None:
    sections = excerpt()
    assert sorted(sections) == sorted([HELPERS, WEBSERVER, DAEMON])
    assert "/bin/bash" in sections[WEBSERVER].text and "/bin/bash" in sections[DAEMON].text
    header = FIXTURE.read_text().split("# @@ ", 1)[0]
    assert "https://github.com/dagster-io/dagster" in header and "Apache" in header
    assert all(len(s.text.splitlines()) <= 20 for s in sections.values())  # not whole templates


@pytest.mark.parametrize("profile", [aws_profile, local_profile], ids=["aws", "local"])
def test_the_mirrored_commands_are_the_upstream_lines_rendered(
    tmp_path: Path, profile: Any
) -> None:
    values = subchart_values(profile())
    upstream = render_upstream_lines(tmp_path, values)
    assert upstream["daemon"] == [
        "/bin/bash",
        "-c",
        "dagster-daemon run -w /dagster-workspace/workspace.yaml",
    ]
    assert mirrored(values) == upstream


@pytest.mark.parametrize(
    ("override", "changes"),
    [
        ({"dagsterWebserver": {"service": {"port": 3000}}}, True),
        ({"dagsterWebserver": {"dbStatementTimeout": 15000, "dbPoolRecycle": 3600}}, True),
        ({"dagsterWebserver": {"pathPrefix": "/dagster", "logLevel": "debug"}}, True),
        ({"dagsterWebserver": {"dbStatementTimeout": 0, "logLevel": ""}}, False),  # Go's `with`
        ({"dagster-user-deployments": {"enabled": False}}, True),
    ],
    ids=["port", "db-flags", "prefix-and-log-level", "zero-and-empty", "no-workspace"],
)
def test_each_input_of_the_upstream_helper_is_mirrored(
    tmp_path: Path, override: dict[str, Any], changes: bool
) -> None:
    base = subchart_values(aws_profile())
    upstream = render_upstream_lines(tmp_path / "override", deep_merge(base, override))
    assert mirrored(deep_merge(base, override)) == upstream
    assert (upstream != render_upstream_lines(tmp_path / "base", base)) is changes


def test_the_excerpt_is_verbatim_in_the_packaged_chart() -> None:
    if not SUBCHART_PACKAGE.exists():
        pytest.skip(SUBCHART_MISSING)
    with tarfile.open(SUBCHART_PACKAGE) as package:

        def member(path: str) -> str:
            handle = package.extractfile(f"dagster/{path}")
            assert handle is not None, path
            return handle.read().decode()

        for section in excerpt().values():
            assert section.text in member(section.path), (
                f"{section.path} of dagster {DAGSTER_DEPENDENCY['version']} no longer holds the "
                "excerpt: update tests/helm/fixtures/dagster_chart_commands.txt from it and "
                "clearlake_deploy.dagster_instance.dagster_containers to match"
            )
        defaults = yaml.safe_load(member("values.yaml"))
    assert (
        defaults["dagsterWebserver"]["service"]["port"]
        == UPSTREAM_DEFAULTS["dagsterWebserver"]["service"]["port"]
    )
