"""The Dockerfile (it cannot be built here): pinned base, locked deps, non-root, commit label."""

from __future__ import annotations

import re
import shlex
from fnmatch import fnmatch
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
Instruction = tuple[str, str]


def _instructions() -> list[Instruction]:
    text = (REPO / "Dockerfile").read_text()
    logical = re.sub(r"\\\n", " ", text)
    found: list[Instruction] = []
    for line in logical.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            found.append((keyword.upper(), " ".join(rest.split())))
    return found


def _final_stage() -> list[Instruction]:
    instructions = _instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def test_base_images_are_pinned_python_311_slim() -> None:
    bases = [rest.split()[0] for keyword, rest in _instructions() if keyword == "FROM"]
    assert bases, "no FROM"
    for base in bases:
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-[a-z]+)?", base), base


def test_installs_exactly_the_locked_dependencies_with_uv() -> None:
    runs = [rest for keyword, rest in _instructions() if keyword == "RUN"]
    assert any(re.search(r"pip install --no-cache-dir uv==\d+\.\d+\.\d+", r) for r in runs)
    syncs = [r for r in runs if "uv sync" in r]
    assert syncs
    for sync in syncs:
        assert "--frozen" in sync and "--no-dev" in sync and "--compile-bytecode" in sync


def test_runs_as_uid_10001() -> None:
    users = [rest for keyword, rest in _final_stage() if keyword == "USER"]
    assert users == ["10001:10001"]


def test_commit_is_a_label_and_an_environment_variable() -> None:
    final = _final_stage()
    assert ("ARG", "PLATFORM_COMMIT") in final
    labels = " ".join(rest for keyword, rest in final if keyword == "LABEL")
    assert 'org.opencontainers.image.revision="${PLATFORM_COMMIT}"' in labels
    env = " ".join(rest for keyword, rest in final if keyword == "ENV")
    assert 'CLEARLAKE_PLATFORM_COMMIT="${PLATFORM_COMMIT}"' in env


def test_no_latest_and_no_secrets() -> None:
    for keyword, rest in _instructions():
        assert ":latest" not in rest, f"{keyword} {rest}"
        if keyword in ("ENV", "ARG"):
            assert not re.search(r"(PASSWORD|SECRET|TOKEN|ACCESS_KEY)", rest, re.I), rest


def test_default_command_is_the_code_location_server() -> None:
    (cmd,) = [rest for keyword, rest in _final_stage() if keyword == "CMD"]
    assert shlex.split(cmd.strip("[]").replace(",", " ")) == [
        "dagster",
        "api",
        "grpc",
        "--module-name",
        "assets.definitions",
        "--host",
        "0.0.0.0",
        "--port",
        "4000",
    ]
    assert ("WORKDIR", "/opt/clearlake") in _final_stage()  # the chart's CLEARLAKE_CONFIG default


def _ignored(path: str, patterns: list[str]) -> bool:
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        bare = pattern.lstrip("!").rstrip("/")
        if fnmatch(path, bare) or fnmatch(path, bare + "/*"):
            ignored = not negated
    return ignored


@pytest.mark.parametrize(
    "source",
    [
        "pyproject.toml",
        "uv.lock",
        "README.md",
        "platform",
        "assets",
        "notebooks",
        "workspace.yaml",
    ],
)
def test_every_copied_path_exists_and_reaches_the_build_context(source: str) -> None:
    copies = " ".join(
        rest for keyword, rest in _instructions() if keyword == "COPY" and "--from" not in rest
    )
    assert re.search(rf"(^|\s){re.escape(source)}/?(\s|$)", copies), f"{source} is not copied"
    assert (REPO / source).exists(), f"{source} does not exist"
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not _ignored(source, patterns), f".dockerignore keeps {source} out"
    for secret in (".env", ".venv", ".git", ".clearlake", "terraform/.terraform"):
        assert _ignored(secret, patterns), f".dockerignore lets {secret} in"
