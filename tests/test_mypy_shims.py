"""tests/mypy_shims keeps up with the helpers the tests and benchmarks import by bare name.

pytest puts each test folder on sys.path, so ``from live_api import LiveApi`` works at run
time; mypy names that file ``tests.api.live_api`` and only finds ``live_api`` through its
shim. A helper without a shim would be silently ``Any`` (``ignore_missing_imports``).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIMS = ROOT / "tests" / "mypy_shims"


def imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def sibling_imports() -> dict[str, Path]:
    """Bare-name imports of a module next to the importing file: name → that module."""
    found: dict[str, Path] = {}
    for folder in ("tests", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name in imported_names(path):
                sibling = path.parent / f"{name}.py"
                if sibling.is_file():
                    found[name] = sibling
    return found


def test_every_sibling_import_has_a_shim_and_every_shim_is_used() -> None:
    siblings = sibling_imports()
    assert "live_api" in siblings  # the scan itself works
    for name, path in siblings.items():
        shim = SHIMS / f"{name}.pyi"
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        assert shim.is_file(), f"add {shim.relative_to(ROOT)} re-exporting {module}"
        assert f"from {module} import *" in shim.read_text(), shim
    assert sorted(p.stem for p in SHIMS.glob("*.pyi")) == sorted(siblings)
