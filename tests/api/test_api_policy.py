"""The policy file: the sample validates, decisions follow it, invalid files name the line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from live_api import CLI, EXAMPLE_POLICY, server_env
from typer.testing import CliRunner

from clearlake.api.errors import ConfigFileError
from clearlake.api.policy import load_policy, parse_policy
from clearlake.cli.api import api_app
from clearlake.lake.store import LakeStore

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


def test_sample_policy_grants_what_its_comments_say() -> None:
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
