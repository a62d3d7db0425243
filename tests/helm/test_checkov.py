"""checkov on the rendered manifests (both profiles) and on the Dockerfile: zero failures.

Skips are justified where they are declared (`checkov.io/skip*` annotations in the
templates, `# checkov:skip=` in the Dockerfile); this test requires the justification.
checkov runs in its own uvx tool environment: it pins libraries the project also uses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from helm_support import REPO, Manifest

CHECKOV = ["uvx", "--from", "checkov==3.3.30", "checkov"]


def run_checkov(files: list[Path], frameworks: list[str]) -> list[dict[str, Any]]:
    if shutil.which("uvx") is None:
        pytest.skip("uvx is not installed (`make setup` installs uv): checkov cannot run")
    command = [*CHECKOV, "--skip-download", "--output", "json", "--framework", *frameworks]
    for path in files:
        command += ["--file", str(path)]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "ERROR"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode in (0, 1), f"checkov crashed: {result.stderr[-2000:]}"
    reports = json.loads(result.stdout)
    return reports if isinstance(reports, list) else [reports]


def summarise(reports: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by_type: dict[str, dict[str, Any]] = {}
    for report in reports:
        results = report["results"]
        failed = [
            f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in results["failed_checks"]
        ]
        unjustified = [
            f"{c['check_id']} {c['resource']}"
            for c in results["skipped_checks"]
            if len((c.get("check_result", {}).get("suppress_comment") or "").strip()) < 20
        ]
        by_type[report["check_type"]] = {
            "passed": len(results["passed_checks"]),
            "failed": failed,
            "unjustified": unjustified,
        }
    return by_type


def test_manifests_and_dockerfile_pass_checkov(
    aws_manifests: list[Manifest], local_manifests: list[Manifest], tmp_path: Path
) -> None:
    files = []
    for profile, objects in (("aws", aws_manifests), ("local", local_manifests)):
        path = tmp_path / f"clearlake-{profile}.yaml"
        path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
        files.append(path)
    summary = summarise(run_checkov([*files, REPO / "Dockerfile"], ["kubernetes", "dockerfile"]))
    assert set(summary) == {"kubernetes", "dockerfile"}, summary
    for check_type, outcome in summary.items():
        assert outcome["passed"] > 0, f"{check_type}: checkov evaluated nothing"
        assert outcome["failed"] == [], f"{check_type} failures: {outcome['failed']}"
        assert outcome["unjustified"] == [], f"{check_type} skips without a reason"
