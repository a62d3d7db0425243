"""The umbrella chart rendered *with* the official dagster subchart, as deployed, when its
package is present (fetched with network access, see helm_support.SUBCHART_MISSING; the
.tgz stays out of git). The webserver and daemon commands it renders are the ones the
production-shaped stack test runs (clearlake_deploy.dagster_instance.dagster_containers);
without the package, test_dagster_commands.py holds those to the upstream template lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest
from helm_support import CHART_DIR, SUBCHART_MISSING, SUBCHART_PACKAGE, Manifest, aws_profile

from clearlake_deploy.dagster_instance import dagster_containers
from clearlake_deploy.helm_values import ClearlakeValues


def test_the_subchart_package_stays_out_of_git() -> None:
    ignored = (CHART_DIR.parents[1] / ".gitignore").read_text().splitlines()
    assert "helm/clearlake/charts/*.tgz" in ignored


def test_the_deployed_chart_runs_the_commands_the_stack_test_mirrors(
    render: Callable[[dict[str, Any]], list[Manifest]],
    values_of: Callable[[str], ClearlakeValues],
) -> None:
    if not SUBCHART_PACKAGE.exists():
        pytest.skip(SUBCHART_MISSING)
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
