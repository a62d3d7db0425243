"""Fixtures of the chart tests: the loaded chart and its renderings (see helm_support)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import helm_python as helm
import pytest
from helm_support import (
    CHART_DIR,
    NAMESPACE,
    RELEASE,
    Manifest,
    aws_profile,
    find,
    local_profile,
    offline,
    parse_manifests,
    typed,
)

from clearlake_deploy.dagster_instance import instance_config
from clearlake_deploy.helm_values import ClearlakeValues

PROFILES = {"aws": aws_profile, "local": local_profile}


@pytest.fixture(scope="session")
def chart() -> Iterator[helm.Chart]:
    loaded = helm.Chart.load(CHART_DIR)
    yield loaded
    loaded.close()


@pytest.fixture(scope="session")
def render(chart: helm.Chart) -> Callable[[dict[str, Any]], list[Manifest]]:
    def _render(values: dict[str, Any]) -> list[Manifest]:
        rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
        return parse_manifests(rendered)

    return _render


@pytest.fixture(scope="session")
def aws_manifests(render: Callable[[dict[str, Any]], list[Manifest]]) -> list[Manifest]:
    return render(offline(aws_profile()))


@pytest.fixture(scope="session")
def local_manifests(render: Callable[[dict[str, Any]], list[Manifest]]) -> list[Manifest]:
    return render(offline(local_profile()))


@pytest.fixture(params=sorted(PROFILES))
def profile(request: pytest.FixtureRequest) -> str:
    """Each values profile in turn: aws (values-aws.yaml), local (values-local.yaml)."""
    return str(request.param)


@pytest.fixture
def manifests(
    profile: str, aws_manifests: list[Manifest], local_manifests: list[Manifest]
) -> list[Manifest]:
    """The chart rendered with the profile's values."""
    return aws_manifests if profile == "aws" else local_manifests


@pytest.fixture(scope="session")
def values_of(chart: helm.Chart) -> Callable[[str], ClearlakeValues]:
    """values_of("aws"): that profile's values as `helm install -f` merges them, typed (a
    fresh model each call: the dagster pieces hold plain dicts that tests pass on)."""

    def _values_of(profile: str) -> ClearlakeValues:
        return ClearlakeValues.model_validate(chart.merge_values(PROFILES[profile]()))

    return _values_of


@pytest.fixture
def dagster_yaml(values_of: Callable[[str], ClearlakeValues], profile: str) -> dict[str, Any]:
    """dagster.yaml as the dagster chart renders it from the profile's values."""
    return instance_config(values_of(profile).dagster, release_name=RELEASE, namespace=NAMESPACE)


@pytest.fixture(scope="session")
def get() -> Callable[[list[Manifest], str, str], Any]:
    """get(objects, kind, name) -> the typed model of that object."""

    def _get(objects: list[Manifest], kind: str, name: str) -> Any:
        return typed(find(objects, kind, name))

    return _get
