from __future__ import annotations

import json
from typing import TypedDict

import pytest

from clearlake.experiments.profiles import (
    EXPERIMENT_PRIORITY_CLASS,
    GPU_RESOURCE,
    RUN_POD_RESOURCES,
    ProfileError,
    Profiles,
    k8s_config,
    k8s_config_tag,
    project_profiles,
    resolve_request,
)
from clearlake.settings import load_settings


class Asked(TypedDict, total=False):
    """The overrides ``resolve_request`` takes on top of a profile's defaults."""

    cpu: str
    memory: str
    gpu: int


@pytest.fixture(scope="module")
def config() -> Profiles:
    """The example project's profiles (the default CLEARLAKE_CONFIG)."""
    return project_profiles(load_settings({}))


def test_profile_defaults_and_smaller_requests(config: Profiles) -> None:
    request = resolve_request(config, "medium")
    assert (request.cpu, request.memory, request.gpu) == ("2", "4Gi", 0)
    smaller = resolve_request(config, "medium", cpu="1500m", memory="3Gi")
    assert (smaller.cpu, smaller.memory, smaller.cpu_limit) == ("1500m", "3Gi", "4")


@pytest.mark.parametrize(
    ("profile", "asked", "message"),
    [
        ("medium", {"cpu": "6"}, "Profile 'medium' does not allow cpu 6 > 4: use --profile large"),
        ("small", {"memory": "64Gi"}, "memory 64Gi > 2Gi: no profile allows that much"),
        ("medium", {"gpu": 1}, "gpu 1 > 0: use --profile gpu"),
        ("gpu", {"gpu": 2}, "gpu 2 > 1"),
    ],
)
def test_beyond_the_profile_is_refused_before_launch(
    config: Profiles, profile: str, asked: Asked, message: str
) -> None:
    with pytest.raises(ProfileError, match=message):
        resolve_request(config, profile, **asked)


def test_unknown_profile_and_bad_quantity(config: Profiles) -> None:
    with pytest.raises(
        ProfileError, match="Unknown resource profile 'huge': choose one of gpu, large"
    ):
        resolve_request(config, "huge")
    with pytest.raises(ProfileError, match="--cpu 'two' is not a Kubernetes quantity"):
        resolve_request(config, "small", cpu="two")


def test_gpu_profile_requests_gpu_with_scheduling(config: Profiles) -> None:
    pod = k8s_config(resolve_request(config, "gpu"), experiment="exp-1")
    resources = pod["container_config"]["resources"]
    assert resources["limits"][GPU_RESOURCE] == "1" and resources["requests"][GPU_RESOURCE] == "1"
    assert pod["pod_spec_config"]["tolerations"][0]["key"] == GPU_RESOURCE
    assert pod["pod_template_spec_metadata"]["labels"]["clearlake/experiment"] == "exp-1"
    cpu_only = k8s_config(resolve_request(config, "small"), experiment="exp-1")
    assert "node_selector" not in cpu_only["pod_spec_config"]
    assert GPU_RESOURCE not in cpu_only["container_config"]["resources"]["limits"]
    # The tag sizes the run pod: small and fixed, whatever the profile.
    tag = k8s_config_tag(resolve_request(config, "gpu"), experiment="exp-1")
    run_pod = json.loads(tag["dagster-k8s/config"])
    assert run_pod["container_config"]["resources"] == RUN_POD_RESOURCES
    assert run_pod["pod_spec_config"] == {"priority_class_name": EXPERIMENT_PRIORITY_CLASS}
