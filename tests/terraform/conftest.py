"""Fixtures of the Terraform checks: a temporary copy of terraform/ initialised from the
provider mirror, and the results of every root's pipeline (see terraform_support)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from terraform_support import (
    CHECKOV,
    PROVIDER,
    ROOTS,
    TERRAFORM,
    Checks,
    Step,
    Terraform,
    cli_config,
    find_mirror,
)


@pytest.fixture(scope="session")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terraform]:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("terraform is not installed: the Terraform checks cannot run")
    mirror = find_mirror()
    if mirror is None:
        pytest.skip(
            f"no filesystem mirror of {PROVIDER} found (set CLEARLAKE_TF_MIRROR): "
            "terraform init cannot install the provider offline"
        )
    base = tmp_path_factory.mktemp("terraform")
    config = base / "terraformrc"
    config.write_text(cli_config(mirror))
    workdir = base / "tree"
    shutil.copytree(
        TERRAFORM, workdir, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl")
    )
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(config),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "TF_PLUGIN_CACHE_DIR": "",
        # Terraform and the provider are Go programs: collecting garbage less often cuts
        # their CPU time by about a third (measured) for a few hundred MB more memory.
        "GOGC": "400",
    }
    yield Terraform(binary, env, workdir)


@pytest.fixture(scope="session")
def checks(terraform: Terraform) -> Checks:
    """Every root's init/validate/test, three roots at a time, while checkov scans the tree.

    Each terraform command spends seconds starting the (700 MB) provider; running them side
    by side, and checkov with them, keeps the whole Terraform check around half a minute.
    """
    checkov = None
    if shutil.which("uvx") is not None:
        command = [*CHECKOV, "--skip-download", "--framework", "terraform", "--output", "json"]
        command += ["--directory", str(TERRAFORM)]
        env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "ERROR"}
        checkov = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
    with ThreadPoolExecutor(max_workers=3) as pool:
        pipelines = dict(zip(ROOTS, pool.map(terraform.pipeline, ROOTS), strict=True))
    if checkov is None:
        return Checks(pipelines, None)
    stdout, stderr = checkov.communicate(timeout=600)
    # The JSON report alone when checkov ran (exit 1 = findings), its errors when it crashed.
    output = stdout if checkov.returncode in (0, 1) else stdout + stderr
    return Checks(pipelines, Step(["checkov"], checkov.returncode, output))
