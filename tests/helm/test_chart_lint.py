"""`helm lint --strict` and the pinned dagster dependency."""

from __future__ import annotations

import shutil
from importlib.metadata import version
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml
from helm_support import CHART_DIR, aws_profile, local_profile, offline

WARNING = 2


def _problems(report: dict[str, object]) -> list[dict[str, Any]]:
    messages = report["messages"]
    assert isinstance(messages, list)
    return [m for m in messages if m["severity"] >= WARNING]


def test_the_only_lint_finding_is_the_undownloadable_dependency() -> None:
    report = helm.lint(CHART_DIR, offline(aws_profile()), strict=True, kube_version="v1.33.0")
    downloaded = (CHART_DIR / "charts").is_dir()  # after `helm dependency build`
    expected = [] if downloaded else ["chart directory is missing these dependencies: dagster"]
    assert [m["error"] for m in _problems(report)] == expected


def test_lint_is_clean_for_both_profiles_without_the_dependency(tmp_path: Path) -> None:
    chart = Path(shutil.copytree(CHART_DIR, tmp_path / "clearlake"))
    metadata = yaml.safe_load((chart / "Chart.yaml").read_text())
    del metadata["dependencies"]
    (chart / "Chart.yaml").write_text(yaml.safe_dump(metadata))
    for profile in (aws_profile, local_profile):
        report = helm.lint(chart, offline(profile()), strict=True, kube_version="v1.33.0")
        assert report["total_charts_linted"] == 1
        assert _problems(report) == [], report


def test_dagster_chart_is_pinned_to_the_locked_dagster_release() -> None:
    (dependency,) = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["dependencies"]
    assert dependency == {
        "name": "dagster",
        "version": version("dagster"),
        "repository": "https://dagster-io.github.io/helm",
        "condition": "dagster.enabled",
    }
    (listed,) = helm.dependency_list(CHART_DIR)
    assert (listed["name"], listed["version"]) == ("dagster", "1.13.27")
    assert listed["status"] in ("missing", "ok"), listed
