"""Parameter grids from the command line: ``--param depth=3,5 --param rate=0.1``."""

from __future__ import annotations

import itertools
import json
from typing import Any

from clearlake.errors import ClearlakeError

MAX_GRID = 16
"""At most this many runs per experiment: a sweep, not a flood of the cluster."""


class GridError(ClearlakeError):
    """A ``--param`` is malformed or the grid is too large."""


def parse_value(text: str) -> Any:
    """JSON scalars (``3``, ``0.1``, ``true``, ``null``) become typed; the rest stay text."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, int | float | bool) or value is None else text


def parse_grid(params: list[str], *, max_runs: int = MAX_GRID) -> list[dict[str, Any]]:
    """Every combination of ``key=v1,v2,…`` options, in a stable order."""
    axes: dict[str, list[Any]] = {}
    for param in params:
        key, sep, values = param.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier() or not values.strip():
            raise GridError(
                f"--param {param!r} is malformed: use NAME=VALUE or NAME=V1,V2 (for example "
                "--param max_depth=3,5)."
            )
        if key in axes:
            raise GridError(f"--param {key} is given twice: list its values once, comma-separated.")
        axes[key] = [parse_value(v.strip()) for v in values.split(",")]
    combinations = [
        dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())
    ]
    if len(combinations) > max_runs:
        raise GridError(
            f"The grid has {len(combinations)} combinations; an experiment may launch at most "
            f"{max_runs}. Split it into smaller experiments."
        )
    return combinations or [{}]
