from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from clearlake.project.load import Project, parse_project
from clearlake.settings import DEFAULT_PROJECT


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def algorithm_repo(tmp_path: Path) -> Path:
    """A real git repository with one commit on main."""
    repo = tmp_path / "algo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "scientist@example.com")
    git(repo, "config", "user.name", "Scientist")
    (repo / "delay_model.py").write_text("class DelayModel:\n    pass\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "A model")
    return repo


@pytest.fixture
def experiment_project(algorithm_repo: Path) -> Project:
    """The example project with the test repository registered (on its regression task)."""
    path = DEFAULT_PROJECT / "clearlake.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["tasks"]["late_arrival"].pop("pipeline")  # its stages are not registered here
    raw["repositories"] = [
        {
            "name": "algo",
            "task": "arrival_delay",
            "location": str(algorithm_repo),
            "branches": ["main"],
            "entrypoint": "delay_model:DelayModel",
            "baseline": {"policy": "parent"},
        }
    ]
    return parse_project(raw, path=path)
