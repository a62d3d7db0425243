"""The umbrella chart rendered *with* the official dagster subchart, as deployed, when its
package is present (`helm dependency build helm/clearlake`, which needs the internet; the
.tgz stays out of git). The webserver and daemon commands it renders are the ones the
production-shaped stack test runs (clearlake_deploy.dagster_instance.dagster_containers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest
import yaml
from helm_support import CHART_DIR, Manifest, aws_profile

from clearlake_deploy.dagster_instance import dagster_containers
from clearlake_deploy.helm_values import ClearlakeValues

CHART = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())
(DAGSTER,) = [d for d in CHART["dependencies"] if d["name"] == "dagster"]
PACKAGE = CHART_DIR / "charts" / f"dagster-{DAGSTER['version']}.tgz"


def test_the_subchart_package_stays_out_of_git() -> None:
    ignored = (CHART_DIR.parents[1] / ".gitignore").read_text().splitlines()
    assert "helm/clearlake/charts/*.tgz" in ignored


def test_the_deployed_chart_runs_the_commands_the_stack_test_mirrors(
    render: Callable[[dict[str, Any]], list[Manifest]],
    values_of: Callable[[str], ClearlakeValues],
) -> None:
    if not PACKAGE.exists():
        pytest.skip(
            f"{PACKAGE.relative_to(CHART_DIR.parents[1])} is not here: the dagster chart "
            f"{DAGSTER['version']} cannot be fetched offline (run `helm dependency build "
            "helm/clearlake` with access to https://dagster-io.github.io/helm)"
        )
    objects = render(aws_profile())
    for obj in objects:
        kubernetes_validate.validate(obj, "1.33.0", strict=True)
    mirrored = dagster_containers(values_of("aws").dagster)
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    for name, component in (("webserver", "dagster-webserver"), ("daemon", "dagster-daemon")):
        (deployment,) = [
            d
            for d in deployments.values()
            if d["spec"]["template"]["metadata"]["labels"].get("component") == component
        ]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        rendered = [*container.get("command", []), *container.get("args", [])]
        assert rendered == mirrored[name]["command"], (name, rendered)
