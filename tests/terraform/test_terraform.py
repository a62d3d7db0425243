"""terraform fmt / init / validate / test for every module and the example, and checkov."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from terraform_support import ROOTS, TERRAFORM, Checks, Terraform

MODULES = [root for root in ROOTS if root.startswith("modules/")]


def test_fmt(terraform: Terraform) -> None:
    result = subprocess.run(
        [terraform.binary, "fmt", "-check", "-recursive", "-diff", "-no-color", str(TERRAFORM)],
        capture_output=True,
        text=True,
        env=terraform.env,
        check=False,
    )
    assert result.returncode == 0, f"run `terraform fmt -recursive terraform`:\n{result.stdout}"


@pytest.mark.parametrize("root", ROOTS)
def test_init_validate_and_test(root: str, checks: Checks) -> None:
    steps = checks.pipelines[root]
    for step in steps:
        assert step.returncode == 0, f"terraform/{root}: {step.describe()}"
    assert [step.command[0] for step in steps] == ["init", "validate", "test"]
    summary = re.search(r"Success! (\d+) passed, 0 failed", steps[-1].output)
    assert summary and int(summary.group(1)) >= 2, steps[-1].output[-2000:]


@pytest.mark.parametrize("root", ROOTS)
def test_layout(root: str) -> None:
    directory = TERRAFORM / root
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (directory / name).is_file(), f"terraform/{root} has no {name}"
    assert list((directory / "tests").glob("*.tftest.hcl")), f"terraform/{root} has no tests"


def _blocks(text: str, keyword: str) -> dict[str, str]:
    """Top-level `keyword "name" { ... }` blocks (brace-balanced)."""
    blocks: dict[str, str] = {}
    for match in re.finditer(rf'^{keyword} "([^"]+)"(?: "([^"]+)")? \{{', text, re.M):
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        name = ".".join(part for part in match.groups() if part)
        blocks[name] = text[match.start() : end + 1]
    return blocks


@pytest.mark.parametrize("root", ROOTS)
def test_variables_are_described_and_precisely_typed(root: str) -> None:
    variables = _blocks((TERRAFORM / root / "variables.tf").read_text(), "variable")
    assert variables
    for name, block in variables.items():
        assert re.search(r"^\s+description\s+=\s+\"[^\"]{10,}", block, re.M), f"{root}: {name}"
        type_ = re.search(r"^\s+type\s+=\s+(.+)$", block, re.M)
        assert type_ and "any" not in type_.group(1), f"{root}: var.{name} needs a precise type"
        for message in re.findall(r'error_message\s+=\s+"([^"]+)"', block):
            assert name in message, f"{root}: a validation message of var.{name} does not name it"


@pytest.mark.parametrize("root", ROOTS)
def test_every_validation_has_expect_failures_runs(root: str) -> None:
    variables = _blocks((TERRAFORM / root / "variables.tf").read_text(), "variable")
    tests = "\n".join(p.read_text() for p in (TERRAFORM / root / "tests").glob("*.tftest.hcl"))
    runs = _blocks(tests, "run")
    for name, block in variables.items():
        rules = block.count("validation {")
        expecting = [
            run
            for run, body in runs.items()
            if re.search(rf"expect_failures\s*=\s*\[[^\]]*\bvar\.{name}\b", body, re.S)
        ]
        assert len(expecting) >= rules, (
            f"{root}: var.{name} has {rules} validation rule(s) but only {len(expecting)} "
            "run(s) expect it to fail: add one run per rule"
        )


@pytest.mark.parametrize("root", MODULES)
def test_single_resources_are_named_this(root: str) -> None:
    text = (TERRAFORM / root / "main.tf").read_text()
    resources = re.findall(r'^resource "([^"]+)" "([^"]+)"', text, re.M)
    types = [kind for kind, _ in resources]
    for kind, name in resources:
        if types.count(kind) == 1:
            assert name == "this", f"{root}: the only {kind} must be named `this`, not {name}"


def test_checkov_finds_nothing_unjustified(checks: Checks) -> None:
    if checks.checkov is None:
        pytest.skip("uvx is not installed (`make setup` installs uv): checkov cannot run")
    assert checks.checkov.returncode in (0, 1), checks.checkov.describe()
    report = json.loads(checks.checkov.output)
    results, summary = report["results"], report["summary"]
    failed = [f"{c['check_id']} {c['resource']} {c['file_path']}" for c in results["failed_checks"]]
    assert failed == [], f"checkov failures: {failed}"
    assert summary["passed"] >= 50 and summary["parsing_errors"] == 0, summary
    for check in results["skipped_checks"]:
        reason = (check.get("check_result", {}).get("suppress_comment") or "").strip()
        assert len(reason) >= 20, f"{check['check_id']} on {check['resource']}: skip has no reason"
    resources = {c["resource"] for c in results["passed_checks"]}
    for evaluated in ("aws_eks_cluster.this", "aws_db_instance.this", "aws_s3_bucket.this"):
        seen = any(re.search(rf"{re.escape(evaluated)}(\[\d+\])?$", r) for r in resources)
        assert seen, f"checkov never saw {evaluated}"


def test_state_and_mirror_locks_stay_out_of_git() -> None:
    ignored = (TERRAFORM / ".gitignore").read_text().splitlines()
    for pattern in (".terraform/", ".terraform.lock.hcl", "*.tfstate", "*.tfstate.*"):
        assert pattern in ignored, f"terraform/.gitignore must ignore {pattern}"
    states = [str(p.relative_to(TERRAFORM)) for p in TERRAFORM.glob("**/*.tfstate*")]
    assert states == [], f"Terraform state in the source tree: {states}"
