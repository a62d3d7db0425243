"""`clearlake api check-policy` measures on the lake whether a hashed or masked column is
given away by clear columns of its dataset (the session's Q1 2013 sample lake)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from live_api import EXAMPLE_POLICY
from typer.testing import CliRunner

from clearlake.api.inference import inferable, policy_findings
from clearlake.api.policy import load_policy, parse_policy
from clearlake.cli.api import api_app
from clearlake.lake.store import LakeStore

DEST_HASHED = EXAMPLE_POLICY.read_text().replace(
    "      flight: internal      # operational flight number\n",
    "      flight: internal\n      dest: restricted\n",
)


def test_a_hashed_destination_is_given_away_by_distance(sample_lake: LakeStore) -> None:
    findings = policy_findings(parse_policy(DEST_HASHED), sample_lake)
    (dest,) = [f for f in findings if f.protected == "dest"]  # scientist: dest hashed
    assert (dest.role, dest.dataset, dest.access) == ("scientist", "flights", "hash")
    first = dest.inferences[0]
    assert first.columns == ("distance",) and first.share >= 0.95 and first.groups > 100
    assert "distance" in dest.to_protect and len(dest.to_protect) <= 3
    assert all(set(f.columns) & set(dest.to_protect) for f in dest.inferences)
    assert "hashed column 'dest' is inferable from clear columns" in str(dest)
    assert f"Protect {', '.join(dest.to_protect)} as well" in str(dest)
    # partner: dest is restricted, so denied, not hashed: nothing to infer
    assert {f.role for f in findings} == {"scientist"}


def test_the_example_policy_gives_nothing_away(sample_lake: LakeStore) -> None:
    assert policy_findings(load_policy(EXAMPLE_POLICY), sample_lake) == []


def test_pairs_are_measured_and_values_seen_once_teach_nothing() -> None:
    pairs = [(a, b) for a in "wxyz" for b in (1, 2, 3)] * 3  # 12 recurring pairs
    once = [(f"u{i}", 100 + i) for i in range(40)]  # unique: would all look "determined"
    table = pa.table(
        {
            "a": [a for a, _ in pairs + once],
            "b": [b for _, b in pairs + once],
            "secret": [f"{a}{b}" for a, b in pairs + once],
        }
    )
    (found,) = inferable(table, "secret", ["a", "b"])
    assert (found.columns, found.share, found.groups) == (("a", "b"), 1.0, 12)


def test_check_policy_prints_the_warnings(
    sample_lake: LakeStore, tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "policy.yaml"  # type: ignore[operator]
    policy.write_text(DEST_HASHED)
    monkeypatch.setenv("CLEARLAKE_LAKE_URL", sample_lake.url)
    done = CliRunner().invoke(api_app, ["check-policy", str(policy)])
    assert done.exit_code == 0, done.output
    assert "warning: role 'scientist', dataset 'flights': hashed column 'dest'" in done.output
    assert "1 protected column(s) inferable from clear columns" in done.output
