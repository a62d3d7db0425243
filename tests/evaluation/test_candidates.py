import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from clearlake.errors import ClearlakeError
from clearlake.evaluation.candidates import (
    CandidateKey,
    InvalidCandidateKeyError,
    candidate_commit_info,
    candidate_parameters,
    parameter_hash,
    register_candidate,
    save_commit_info,
)
from clearlake.evaluation.git import CommitInfo
from clearlake.lake.store import LakeStore
from clearlake.names import candidate_partitions_name

SHA = "3baebfc0123456789abcdef0123456789abcdef0"


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        ("flight-delays@3baebfc", CandidateKey("flight-delays", "3baebfc")),
        ("flight-delays@3baebfc~0a1b2c3d", CandidateKey("flight-delays", "3baebfc", "0a1b2c3d")),
        ("m_1.x@0000000", CandidateKey("m_1.x", "0000000")),
    ],
)
def test_keys_round_trip(key: str, parsed: CandidateKey) -> None:
    assert CandidateKey.parse(key) == parsed
    assert str(parsed) == key


@pytest.mark.parametrize(
    "key", ["flight-delays", "a/b@3baebfc", "repo@3BAEBFC", "repo@3baebf", "repo@3baebfc~xyz"]
)
def test_invalid_keys_say_what_a_key_looks_like(key: str) -> None:
    with pytest.raises(InvalidCandidateKeyError, match=r"<repo>@<sha7>"):
        CandidateKey.parse(key)


PARTITIONS = candidate_partitions_name("arrival_delay")


def test_key_of_commit_and_parameters() -> None:
    plain = CandidateKey.of("flight-delays", SHA)
    assert str(plain) == "flight-delays@3baebfc"
    tuned = CandidateKey.of("flight-delays", SHA, {"max_iter": 100, "learning_rate": 0.05})
    same = CandidateKey.of("flight-delays", SHA, {"learning_rate": 0.05, "max_iter": 100})
    assert tuned == same and tuned.param_hash == parameter_hash(
        {"max_iter": 100, "learning_rate": 0.05}
    )
    assert tuned.without_parameters() == plain
    assert CandidateKey.of("flight-delays", SHA, {}) == plain


def test_register_candidate_adds_partition_and_keeps_parameters(tmp_path: Path) -> None:
    store = LakeStore(str(tmp_path / "lake"))
    instance = dg.DagsterInstance.ephemeral()
    parameters = {"max_iter": 100, "loss": "absolute_error"}
    key = register_candidate(
        instance, "flight-delays", SHA, parameters, partitions=PARTITIONS, store=store
    )
    assert key == str(CandidateKey.of("flight-delays", SHA, parameters))
    assert instance.get_dynamic_partitions(PARTITIONS) == [key]
    again = register_candidate(
        instance, "flight-delays", SHA, parameters, partitions=PARTITIONS, store=store
    )
    assert again == key
    assert instance.get_dynamic_partitions(PARTITIONS) == [key]
    assert candidate_parameters(key, store=store) == parameters
    assert (tmp_path / "lake" / "evaluation" / "candidate_parameters" / f"{key}.json").is_file()
    assert candidate_parameters("flight-delays@3baebfc", store=store) == {}


def test_tampered_or_missing_parameters_are_refused(tmp_path: Path) -> None:
    store = LakeStore(str(tmp_path / "lake"))
    key = register_candidate(
        dg.DagsterInstance.ephemeral(), "r", SHA, {"a": 1}, partitions=PARTITIONS, store=store
    )
    path = tmp_path / "lake" / "evaluation" / "candidate_parameters" / f"{key}.json"
    path.write_text('{"a": 2}')
    with pytest.raises(ClearlakeError, match="do not hash to"):
        candidate_parameters(key, store=store)
    with pytest.raises(ClearlakeError, match="no parameters file"):
        candidate_parameters("r@3baebfc~00000000", store=store)


def test_recorded_commit_info_is_read_without_git(tmp_path: Path) -> None:
    store = LakeStore(str(tmp_path / "lake"))
    info = CommitInfo(
        SHA,
        "Subject\n\nBody",
        "Ada <ada@x>",
        dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC),
        ("p" * 40,),
    )
    save_commit_info(store, "nowhere@3baebfc", info)
    found = candidate_commit_info("nowhere@3baebfc", store=store)
    assert found == info and found.subject == "Subject" and found.short == "3baebfc"
