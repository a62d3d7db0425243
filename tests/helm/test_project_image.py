"""A team's own project in the image: helm/project-image/Dockerfile adds the project folder
to the platform image, and ``projectConfig`` points every Clearlake pod (run and step pods
through the run launcher's env ConfigMap) at its clearlake.yaml.

No container engine runs here, so the Dockerfile's one COPY is applied to a folder standing
for the image's filesystem, and the copied project is loaded as the pods would load it.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from helm_support import REPO, Manifest, aws_profile, deep_merge, offline

from clearlake.project.load import load_project

DOCKERFILE = REPO / "helm" / "project-image" / "Dockerfile"


def instructions(path: Path) -> list[tuple[str, str]]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    return [(line.split()[0], line.split(maxsplit=1)[1]) for line in joined.splitlines()]


def destination(project: str) -> PurePosixPath:
    """Where the Dockerfile puts a project folder named `project` (its one COPY)."""
    (copy,) = [rest for keyword, rest in instructions(DOCKERFILE) if keyword == "COPY"]
    source, target = copy.split()
    assert source == "."  # the build context is the project folder
    return PurePosixPath(target.replace("${PROJECT}", project))


def test_the_project_lands_in_the_platform_image_where_project_config_points(
    render: Callable[[dict[str, Any]], list[Manifest]], get: Callable[..., Any]
) -> None:
    platform = dict(instructions(REPO / "Dockerfile"))
    assert platform["WORKDIR"] == "/opt/clearlake"
    config = destination("shop") / "clearlake.yaml"
    assert config.is_relative_to("/opt/clearlake/projects")
    objects = render(offline(deep_merge(aws_profile(), {"projectConfig": str(config)})))
    env = get(objects, "ConfigMap", "clearlake-env").data
    assert env["CLEARLAKE_CONFIG"] == str(config)
    (code,) = get(objects, "Deployment", "clearlake-code-location").spec.template.spec.containers
    assert "clearlake-env" in [source.config_map_ref.name for source in code.env_from]


def test_a_team_project_copied_as_the_image_copies_it_is_the_project_loaded(
    tmp_path: Path,
) -> None:
    spec = importlib.util.spec_from_file_location(
        "shop_project", REPO / "tests" / "project" / "shop_project.py"
    )
    assert spec is not None and spec.loader is not None
    shop = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shop)
    context = tmp_path / "shop"  # the team's project folder: the build context
    shop.write_project(context)
    image_root = tmp_path / "image"
    target = image_root / destination("shop").relative_to("/")
    shutil.copytree(context, target)  # COPY . /opt/clearlake/projects/shop/
    project = load_project(target / "clearlake.yaml")
    assert project.name == "shop"
    assert project.root == target
    (feature,) = project.config.features.values()
    assert project.resolve(str(feature.sql)).is_file()
