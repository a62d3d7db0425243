"""Provenance: how a result came to be (code + data + parameters + environment).

Every materialisation carries :func:`provenance_metadata`. Dagster itself records the
code version and the input data versions as tags on each materialisation event; this
adds what Dagster does not know: the platform commit, the candidate commit, the
parameters and their hash, the environment lock hash and the run id.
"""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Mapping
from typing import Any

from clearlake.settings import PROJECT_ROOT, load_settings
from clearlake.versioning import digest, json_version

PROVENANCE_PREFIX = "provenance/"


@functools.cache
def platform_commit() -> str:
    """The platform's git commit (image env var in the cluster, git locally)."""
    configured = load_settings().platform_commit
    if configured:
        return configured
    try:
        out = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        return f"{out}+dirty" if dirty else out
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@functools.cache
def environment_lock_hash() -> str:
    lock = PROJECT_ROOT / "uv.lock"
    return digest(lock.read_bytes()) if lock.is_file() else "unknown"


def provenance_metadata(
    *,
    run_id: str,
    code_version: str | None,
    parameters: Mapping[str, Any] | None = None,
    candidate_commit: str | None = None,
) -> dict[str, str]:
    """Metadata entries (``provenance/…``) recorded on a materialisation."""
    record: dict[str, str] = {
        "platform_commit": platform_commit(),
        "environment_lock_hash": environment_lock_hash(),
        "run_id": run_id,
        "code_version": code_version or "unknown",
    }
    if candidate_commit:
        record["candidate_commit"] = candidate_commit
    if parameters is not None:
        record["parameters"] = json.dumps(dict(parameters), sort_keys=True, default=str)
        record["parameters_hash"] = json_version(parameters)
    return {f"{PROVENANCE_PREFIX}{k}": v for k, v in record.items()}
