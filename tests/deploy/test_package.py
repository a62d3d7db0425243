"""clearlake_deploy is a tool package: outside the wheel and the image, and no cycle inside."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "platform" / "clearlake_deploy"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_not_shipped_in_the_wheel_or_the_image() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert packages == ["platform/clearlake", "assets"]
    assert "platform/clearlake_deploy/" in (REPO / ".dockerignore").read_text().splitlines()


def test_the_runtime_never_imports_it() -> None:
    for folder in ("platform/clearlake", "assets"):
        for path in (REPO / folder).rglob("*.py"):
            assert not {m for m in _imports(path) if m.startswith("clearlake_deploy")}, path


def test_module_imports_form_no_cycle() -> None:
    graph = {
        path.stem: {m.split(".")[1] for m in _imports(path) if m.startswith("clearlake_deploy.")}
        for path in TOOL.glob("*.py")
    }

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, set()):
            if nxt == target or (nxt not in seen and reaches(nxt, target, seen | {nxt})):
                return True
        return False

    assert not [m for m in graph if reaches(m, m, set())]
