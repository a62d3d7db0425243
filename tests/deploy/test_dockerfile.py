"""The Dockerfile (it cannot be built here): pinned base, locked deps, non-root, commit label."""

from __future__ import annotations

import ast
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


def _copied_sources() -> list[str]:
    """Every path a COPY takes from the build context (not from another stage), read from the
    Dockerfile itself: a COPY added later is checked without editing this test."""
    sources: list[str] = []
    for keyword, rest in _instructions():
        if keyword == "COPY" and "--from" not in rest:
            sources += [p.rstrip("/") for p in rest.split()[:-1] if not p.startswith("--")]
    return sources


@pytest.mark.parametrize("source", _copied_sources())
def test_every_copied_path_exists_and_reaches_the_build_context(source: str) -> None:
    assert (REPO / source).exists(), f"{source} does not exist"
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not _ignored(source, patterns), f".dockerignore keeps {source} out"
    for secret in (".env", ".venv", ".git", ".clearlake", "terraform/.terraform"):
        assert _ignored(secret, patterns), f".dockerignore lets {secret} in"


PACKAGE_OF_PROGRAM = {"git": "git"}
"""Debian package installing each external program the platform runs (add new ones here)."""
SUBPROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output"}


def _programs_run_by(path: Path) -> set[str]:
    """First words of the literal commands handed to subprocess (directly or via a name)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    literal_commands: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.List):
            head = node.value.elts[0] if node.value.elts else None
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        literal_commands[target.id] = head.value
    found: set[str] = set()
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SUBPROCESS_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "subprocess"
            and node.args
        ):
            continue
        command = node.args[0]
        if isinstance(command, ast.List) and command.elts:
            head = command.elts[0]
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                found.add(head.value)
        elif isinstance(command, ast.Name) and command.id in literal_commands:
            found.add(literal_commands[command.id])
    return found


def test_every_program_the_platform_runs_is_installed_in_the_image() -> None:
    programs = {
        program
        for folder in ("platform", "assets")
        for path in sorted((REPO / folder).rglob("*.py"))
        for program in _programs_run_by(path)
    }
    assert "git" in programs, "the scan no longer finds the git calls: fix the scan"
    installs = " ".join(
        rest for keyword, rest in _final_stage() if keyword == "RUN" and "apt-get install" in rest
    )
    for program in sorted(programs):
        assert program in PACKAGE_OF_PROGRAM, f"{program}: add its Debian package to the test"
        package = PACKAGE_OF_PROGRAM[program]
        assert re.search(rf"\b{re.escape(package)}\b", installs), f"install {package} ({program})"
    assert "ca-certificates" in installs.split(), "HTTPS remotes and S3 need CA certificates"
