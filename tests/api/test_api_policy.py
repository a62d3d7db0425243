"""The policy file: the sample validates, decisions follow it, invalid files name the line."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from live_api import CLI, EXAMPLE_POLICY, running_api, server_env
from typer.testing import CliRunner

from clearlake.api.config import DENY_ALL, load_api_policy, policy_path
from clearlake.api.errors import ConfigFileError
from clearlake.api.policy import load_policy, parse_policy
from clearlake.cli.api import api_app
from clearlake.lake.store import LakeStore
from clearlake.settings import DEFAULT_PROJECT, load_settings

VALID = """\
version: 1
classes: [public, restricted]
default_class: restricted
datasets:
  flights:
    default_class: public
    columns:
      tailnum: restricted
roles:
  reader:
    datasets: [flights]
    classes: {public: allow, restricted: mask}
"""


def test_example_policy_grants_what_its_comments_say() -> None:
    policy = load_policy(EXAMPLE_POLICY)
    assert policy.roles == {"scientist", "partner", "steward"}
    assert policy.grant(["scientist"], "flights", "tailnum").access == "hash"
    assert policy.grant(["partner"], "flights", "tailnum").access == "deny"
    assert policy.grant(["partner"], "flights", "flight").access == "mask"
    assert policy.grant(["steward"], "planes", "tailnum").access == "allow"
    assert policy.grant(["partner"], "planes", "model").access == "deny"  # dataset not listed
    assert policy.may_read(["partner"], "flights") and not policy.may_read(["partner"], "weather")
    assert policy.column_class("drops/sensors", "anything") == "internal"  # default_class


def test_several_roles_get_the_most_permissive_grant() -> None:
    policy = load_policy(EXAMPLE_POLICY)
    assert policy.grant(["partner", "scientist"], "flights", "tailnum").access == "hash"
    assert policy.grant(["partner", "steward"], "flights", "tailnum").access == "allow"
    assert policy.grant(["nobody"], "flights", "carrier").access == "deny"


def test_a_class_a_role_does_not_mention_is_denied() -> None:
    text = VALID.replace("{public: allow, restricted: mask}", "{public: allow}")
    policy = parse_policy(text)
    assert policy.grant(["reader"], "flights", "tailnum").access == "deny"
    assert policy.grant(["reader"], "flights", "carrier").access == "allow"


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("restricted: mask}", "restricted: show}", 12, r"roles\.reader\.classes\.restricted"),
        ("tailnum: restricted", "tailnum: secret", 8, r"unknown class 'secret'"),
        ("tailnum: restricted", "tail_number: restricted", 8, r"has no column 'tail_number'"),
        ("version: 1", "version: 2", 1, r"version"),
        ("default_class: restricted", "default_klass: restricted", 3, r"default_klass"),
        ("datasets: [flights]", "datasets: []", 11, r"datasets"),
        ("  reader:\n", "  Reader Role:\n", 10, r"role name 'Reader Role'"),
        (
            "roles:\n",
            "roles:\n  reader:\n    datasets: ['*']\n    classes: {}\n",
            13,
            r"duplicate key 'reader'",
        ),
        (
            "classes: [public, restricted]",
            "classes: [public, restricted",
            3,
            r"not valid YAML \(.*flow sequence on line 2\)",
        ),
    ],
)
def test_an_invalid_policy_names_its_line(old: str, new: str, line: int, message: str) -> None:
    assert old in VALID
    with pytest.raises(ConfigFileError, match=message) as caught:
        parse_policy(VALID.replace(old, new, 1), name="policy.yaml")
    assert caught.value.line == line, str(caught.value)
    assert f"policy.yaml, line {line}" in str(caught.value)


def test_serve_refuses_to_start_with_an_invalid_policy(
    tmp_path: Path, sample_lake: LakeStore
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(VALID.replace("tailnum: restricted", "tailnum: secret"))
    env = server_env(tmp_path / "home", sample_lake, CLEARLAKE_API_POLICY=str(policy))
    done = subprocess.run(
        [CLI, "api", "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert f"{policy}, line 8: unknown class 'secret'" in done.stderr
    assert "Uvicorn running" not in done.stdout + done.stderr


def test_check_policy_command(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(api_app, ["check-policy", str(EXAMPLE_POLICY)])
    assert done.exit_code == 0, done.output
    assert "valid (3 roles: partner, scientist, steward)" in done.output
    broken = tmp_path / "p.yaml"
    broken.write_text(VALID.replace("version: 1", "version: one"))
    done = runner.invoke(api_app, ["check-policy", str(broken)])
    assert isinstance(done.exception, ConfigFileError)  # `clearlake` prints it, exits 2
    assert f"{broken}, line 1: version" in str(done.exception)


def _project_without_policy(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    shutil.copytree(DEFAULT_PROJECT, folder, ignore=shutil.ignore_patterns("__pycache__"))
    config = folder / "clearlake.yaml"
    config.write_text(re.sub(r"\napi:\n  policy: [^\n]*\n", "\n", config.read_text()))
    (folder / "api_policy.yaml").unlink()
    return config


def test_the_default_policy_is_the_projects(tmp_path: Path) -> None:
    settings = load_settings({"CLEARLAKE_HOME": str(tmp_path)})
    assert policy_path(settings) == EXAMPLE_POLICY.resolve()
    assert load_api_policy(settings).roles == {"scientist", "partner", "steward"}
    override = tmp_path / "mine.yaml"
    override.write_text(VALID)
    settings = load_settings(
        {"CLEARLAKE_HOME": str(tmp_path), "CLEARLAKE_API_POLICY": str(override)}
    )
    assert load_api_policy(settings).roles == {"reader"}


def test_a_project_without_a_policy_refuses_everything(tmp_path: Path) -> None:
    config = _project_without_policy(tmp_path)
    settings = load_settings({"CLEARLAKE_HOME": str(tmp_path), "CLEARLAKE_CONFIG": str(config)})
    assert policy_path(settings) is None
    policy = load_api_policy(settings)
    assert policy is DENY_ALL and policy.roles == set()
    assert not policy.may_read(["steward"], "flights")
    assert policy.grant(["steward"], "flights", "carrier").access == "deny"


def test_serve_says_clearly_that_no_policy_denies_everything(
    tmp_path: Path, sample_lake: LakeStore
) -> None:
    config = _project_without_policy(tmp_path)
    env = server_env(tmp_path / "home", sample_lake, CLEARLAKE_CONFIG=str(config))
    del env["CLEARLAKE_API_POLICY"]
    with running_api(tmp_path / "home", env, {}) as api:
        assert httpx.get(f"{api.url}/v1/datasets").status_code == 401
    log = api.log_path.read_text()
    assert "warning: no access policy: CLEARLAKE_API_POLICY is not set and the project" in log
    assert "every dataset, column and report page is refused" in log
    assert "policy none (deny all)" in log and "clk_" not in log  # no role: no demo token
    done = subprocess.run(
        [CLI, "api", "check-policy"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "No policy to check: CLEARLAKE_API_POLICY is not set and the project" in done.stderr
