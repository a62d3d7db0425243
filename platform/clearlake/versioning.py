"""Content hashes that become Dagster code versions and data versions.

Code versions are computed, never typed by hand: the hash of the source that defines a
computation (functions, modules, notebooks, configuration). Changing any of it marks
exactly the downstream assets as unsynced; changing nothing keeps them fresh.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path
from typing import Any


def digest(*parts: str | bytes, length: int = 16) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:length]


def source_version(*objects: Any) -> str:
    """Hash of the source code of functions, classes or modules."""
    return digest(*(inspect.getsource(o) for o in objects))


def file_version(*paths: Path) -> str:
    return digest(*(p.read_bytes() for p in paths))


def json_version(value: Any) -> str:
    """Hash of a JSON-able value, independent of key order."""
    return digest(json.dumps(value, sort_keys=True, default=str))
