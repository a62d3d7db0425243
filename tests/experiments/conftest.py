from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from clearlake.evaluation.config import ClearlakeConfig, load_config, parse_config
from clearlake.settings import PROJECT_ROOT


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
def experiment_config(algorithm_repo: Path) -> ClearlakeConfig:
    """The project's configuration with the test repository registered."""
    raw = load_config(PROJECT_ROOT / "assets" / "clearlake.yaml").model_dump(mode="json")
    raw["repositories"] = [
        {
            "name": "algo",
            "location": str(algorithm_repo),
            "branches": ["main"],
            "entrypoint": "delay_model:DelayModel",
            "baseline": {"policy": "parent"},
        }
    ]
    return parse_config(raw, source="test")
