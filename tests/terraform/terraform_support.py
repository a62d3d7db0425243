"""Helpers of the Terraform checks: the provider mirror, the CLI config, the runs.

Every root (each module and the example) is copied to a temporary directory so init never
writes .terraform/ or lock files into the source tree, then initialised, validated and
tested (`terraform test`, mocked provider) in parallel. The results are shared by the tests.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
ROOTS = [
    "modules/eks",
    "modules/image_repository",
    "modules/irsa",
    "modules/lake_bucket",
    "modules/metadata_db",
    "modules/reports_volume",
    "modules/drop_sftp",
    "examples/complete",
]
PROVIDER = Path("registry.terraform.io") / "hashicorp" / "aws"
MIRROR_CANDIDATES = [
    Path("/opt/tf-plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path.home() / ".local" / "share" / "terraform" / "plugins",
    Path("/usr/local/share/terraform/plugins"),
    Path("/usr/share/terraform/plugins"),
]


def find_mirror() -> Path | None:
    """A filesystem mirror holding hashicorp/aws: $CLEARLAKE_TF_MIRROR, else the usual places."""
    configured = os.environ.get("CLEARLAKE_TF_MIRROR")
    candidates = [Path(configured)] if configured else []
    candidates += MIRROR_CANDIDATES
    candidates += sorted(Path("/opt").glob("*/")) if Path("/opt").is_dir() else []
    for candidate in candidates:
        if (candidate / PROVIDER).is_dir():
            return candidate
    return None


def cli_config(mirror: Path) -> str:
    return (
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n'
    )


@dataclass(frozen=True)
class Step:
    command: list[str]
    returncode: int
    output: str

    def describe(self) -> str:
        return f"`{' '.join(self.command)}` exited {self.returncode}:\n{self.output[-4000:]}"


@dataclass(frozen=True)
class Terraform:
    binary: str
    env: dict[str, str]
    workdir: Path

    def run(self, root: str, *args: str) -> Step:
        command = [self.binary, f"-chdir={self.workdir / root}", *args, "-no-color"]
        result = subprocess.run(
            command, capture_output=True, text=True, env=self.env, timeout=600, check=False
        )
        return Step(command[2:-1], result.returncode, result.stdout + result.stderr)

    def pipeline(self, root: str) -> list[Step]:
        """init, validate, test: stop at the first failure."""
        steps: list[Step] = []
        for args in (["init", "-backend=false", "-input=false"], ["validate"], ["test"]):
            steps.append(self.run(root, *args))
            if steps[-1].returncode != 0:
                break
        return steps


CHECKOV = ["uvx", "--from", "checkov==3.3.30", "checkov"]


@dataclass(frozen=True)
class Checks:
    pipelines: dict[str, list[Step]]
    checkov: Step | None  # None: uvx is not installed
