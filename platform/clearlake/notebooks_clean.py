"""Check that committed notebooks carry no outputs and have a ``parameters`` cell.

``python -m clearlake.notebooks_clean notebooks`` exits 1 naming every offending file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def problems(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            found.append(f"{path}: cell {index} has outputs (strip them before committing)")
    if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in notebook.cells):
        found.append(f"{path}: no cell is tagged 'parameters'")
    return found


def main(argv: list[str]) -> int:
    roots = [Path(a) for a in argv] or [Path("notebooks")]
    found = [p for root in roots for nb in sorted(root.rglob("*.ipynb")) for p in problems(nb)]
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
