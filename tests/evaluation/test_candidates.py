import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from clearlake.errors import ClearlakeError
from clearlake.evaluation.candidates import (
    CandidateKey,
    InvalidCandidateKeyError,
    StageChange,
    StageCommit,
    candidate_commit_info,
    candidate_parameters,
    changed_stages,
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
        ("flight-delays@3baebfc", CandidateKey((StageCommit("flight-delays", "3baebfc"),))),
        (
            "flight-delays@3baebfc~0a1b2c3d",
            CandidateKey((StageCommit("flight-delays", "3baebfc"),), "0a1b2c3d"),
        ),
        ("m_1.x@0000000", CandidateKey((StageCommit("m_1.x", "0000000"),))),
        (
            "late-features@1a2b3c4+late-arrivals@5d6e7f8",
            CandidateKey(
                (StageCommit("late-features", "1a2b3c4"), StageCommit("late-arrivals", "5d6e7f8"))
            ),
        ),
        (
            "clean@0000000+feat@1111111+model@2222222~0a1b2c3d",
            CandidateKey(
                (
                    StageCommit("clean", "0000000"),
                    StageCommit("feat", "1111111"),
                    StageCommit("model", "2222222"),
                ),
                "0a1b2c3d",
            ),
        ),
    ],
)
def test_keys_round_trip(key: str, parsed: CandidateKey) -> None:
    assert CandidateKey.parse(key) == parsed
    assert str(parsed) == key


@pytest.mark.parametrize(
    "key",
    [
        "flight-delays",
        "a/b@3baebfc",
        "repo@3BAEBFC",
        "repo@3baebf",
        "repo@3baebfc~xyz",
        "feat@1a2b3c4+",
        "feat@1a2b3c4~0a1b2c3d+model@5d6e7f8",
        "feat+model@5d6e7f8",
    ],
)
def test_invalid_keys_say_what_a_key_looks_like(key: str) -> None:
    with pytest.raises(InvalidCandidateKeyError, match=r"<repo>@<sha7>"):
        CandidateKey.parse(key)


def test_pipeline_key_names_the_model_stage_and_every_stage() -> None:
    key = CandidateKey.of_stages(
        [("late-features", "1a2b3c4" + "0" * 33), ("late-arrivals", SHA)], {"depth": 3}
    )
    assert key.repo == "late-arrivals" and key.commit == "3baebfc"
    assert key.is_pipeline and not CandidateKey.of("late-arrivals", SHA).is_pipeline
    assert [str(s) for s in key.stages] == ["late-features@1a2b3c4", "late-arrivals@3baebfc"]
    assert str(key) == f"late-features@1a2b3c4+late-arrivals@3baebfc~{parameter_hash({'depth': 3})}"
    assert CandidateKey.parse(str(key)) == key
    assert CandidateKey.of_stages({"late-features": "1a2b3c4", "late-arrivals": SHA}) == (
        key.without_parameters()
    )
    moved = key.with_stage("late-features", "9f8e7d6")
    assert str(moved).startswith("late-features@9f8e7d6+late-arrivals@3baebfc~")
    with pytest.raises(ClearlakeError, match="has no stage 'other'"):
        key.with_stage("other", "9f8e7d6")


def test_changed_stages_attribute_the_difference_from_the_keys_alone() -> None:
    base = "late-features@1a2b3c4+late-arrivals@5d6e7f8"
    assert changed_stages(base, base) == []
    assert changed_stages("late-features@9f8e7d6+late-arrivals@5d6e7f8", base) == [
        StageChange("late-features", "1a2b3c4", "9f8e7d6")
    ]
    both = CandidateKey.parse("late-features@9f8e7d6+late-arrivals@0000000")
    assert changed_stages(both, CandidateKey.parse(base)) == [
        StageChange("late-features", "1a2b3c4", "9f8e7d6"),
        StageChange("late-arrivals", "5d6e7f8", "0000000"),
    ]
    assert changed_stages("late-arrivals@5d6e7f8", base) == [
        StageChange("late-features", "1a2b3c4", None)
    ]


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
