"""What a pipeline's combinations look like in every view: the gate headline and record name
the stage that changed, the candidate index and leaderboard order combinations by their
newest stage commit with each stage's sha readable, and the CLI lists them — on a real lake
and a real Dagster instance, with index rows and gate outcomes built directly."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa
import pytest
import yaml
from evaluation_env import example_config, variables_set
from test_gate_headline import CHURN, compared
from typer.testing import CliRunner

from clearlake import names
from clearlake.cli.main import app
from clearlake.demo.repos import SampleCommit, add_commit, init_repository
from clearlake.errors import ClearlakeError
from clearlake.evaluation import candidate_index as ci
from clearlake.evaluation import gate
from clearlake.evaluation.git import CommitInfo
from clearlake.evaluation.leaderboard import LEADERBOARD_SCHEMA, leaderboard_frame, markdown_table
from clearlake.evaluation.results import stored_frame
from clearlake.evaluation.scoring import IMPROVED, NO_CHANGE, REGRESSED
from clearlake.evaluation.submit import reference_combination, with_stage
from clearlake.lake.store import LakeStore
from clearlake.project.load import load_project
from clearlake.settings import load_settings

TASK = "late_arrival"
T0 = dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC)
F1, F2 = "1a2b3c4", "9f8e7d6"  # late-features commits
M1, M2 = "5d6e7f8", "0c0ffee"  # late-arrivals commits


def combo(features: str, model: str) -> str:
    return f"late-features@{features}+late-arrivals@{model}"


def decide(frame: pd.DataFrame, candidate: str, baseline: str | None) -> gate.GateOutcome:
    return gate.decide(
        frame, task=CHURN, task_name=TASK, candidate=candidate, baseline=baseline, baseline_note=""
    )


BLOCKING = compared(
    ("log_loss", "overall", 0.45, 0.001, NO_CHANGE),
    ("log_loss", "dest=ORD", 0.45, 0.031, REGRESSED),
)


# -- the gate ----------------------------------------------------------------------------


def test_the_headline_names_the_stage_that_changed() -> None:
    blocked = decide(BLOCKING, combo(F2, M1), combo(F1, M1))
    assert blocked.stage_change == f"stage late-features {F1}→{F2}"
    assert blocked.headline().startswith(
        f"blocked vs {combo(F1, M1)}: stage late-features {F1}→{F2}: log_loss for dest=ORD "
        "+0.031 (simultaneous CI "
    )
    assert f"stage late-features {F1}→{F2}: log_loss" in blocked.status_line(140)
    lines = blocked.details()
    assert f"stages: late-features@{F2} + late-arrivals@{M1}" in lines
    assert f"changed: stage late-features {F1}→{F2}" in lines
    # Both stages moved (the "both" combination of one tick), and an improvement.
    better = compared(("log_loss", "overall", 0.45, -0.05, IMPROVED))
    both = decide(better.assign(metric="roc_auc"), combo(F2, M2), combo(F1, M1))
    assert both.headline().startswith(
        f"passed vs {combo(F1, M1)}: stages late-features {F1}→{F2}, late-arrivals {M1}→{M2}: "
        "no significant regression; improved: roc_auc overall"
    )
    # The record carries it; a record written before pipelines reads without it.
    stored = gate.GateOutcome.from_json(blocked.to_json())
    assert stored.stage_change == blocked.stage_change and stored.headline() == blocked.headline()
    old = {k: v for k, v in blocked.to_json().items() if k != "stage_change"}
    assert (
        gate.GateOutcome.from_json(old)
        .headline()
        .startswith(f"blocked vs {combo(F1, M1)}: log_loss for dest=ORD +0.031")
    )


def test_single_repository_headlines_stay_as_they_were() -> None:
    one = decide(BLOCKING, "late-arrivals@0c0ffee", "late-arrivals@5d6e7f8")
    assert one.stage_change == "" and gate.stage_list(one.candidate) == ""
    assert one.headline().startswith(
        "blocked vs late-arrivals@5d6e7f8: log_loss for dest=ORD +0.031 (simultaneous CI "
    )
    assert not any(line.startswith(("stages:", "changed:")) for line in one.details())
    nothing = decide(BLOCKING, combo(F1, M1), None)  # no baseline: nothing changed
    assert nothing.stage_change == "" and "stage " not in nothing.headline()


# -- the index, the leaderboard and the CLI ----------------------------------------------


def commit(sha: str, hours: int, subject: str) -> CommitInfo:
    return CommitInfo(sha + "0" * 33, subject, "ann <a@b>", T0 + dt.timedelta(hours=hours), ())


def scores(value: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric": ["log_loss", "log_loss"],
            "subgroup_kind": ["overall", "dest"],
            "subgroup": ["all", "ORD"],
            "value": [value, value + 0.1],
            "ci_low": [value - 0.01, value],
            "ci_high": [value + 0.01, value + 0.2],
        }
    )


HISTORY = [  # (features, model, features hour, model hour, log_loss, baseline)
    (F1, M1, 0, 1, 0.45, None),
    (F1, M2, 0, 5, 0.44, combo(F1, M1)),  # a model commit: the newest stage is the model
    (F2, M1, 3, 1, 0.48, combo(F1, M1)),  # a features commit, older than M2
]


@pytest.fixture
def pipeline_home(tmp_path: Path) -> dict[str, str]:
    """A project whose late_arrival task is a two-stage pipeline, a lake and a home."""
    raw: dict[str, Any] = copy.deepcopy(example_config())
    raw["tasks"][TASK]["pipeline"] = [
        {
            "repository": "late-features",
            "output": {"columns": {"flight_id": "string not null", "dep_delay": "float64"}},
        },
        {"repository": "late-arrivals"},
    ]
    raw["repositories"] = [r for r in raw["repositories"] if r["name"] != "late-features"]
    raw["repositories"].append(
        {"name": "late-features", "location": str(tmp_path / "f"), "entrypoint": "f:F"}
    )
    config = tmp_path / "clearlake.yaml"
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    (tmp_path / "dagster").mkdir()
    return {
        "CLEARLAKE_CONFIG": str(config),
        "CLEARLAKE_HOME": str(tmp_path),
        "CLEARLAKE_LAKE_URL": str(tmp_path / "lake"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
    }


def test_leaderboard_and_listing_show_a_pipelines_progress(
    pipeline_home: dict[str, str], tmp_path: Path
) -> None:
    store = LakeStore(pipeline_home["CLEARLAKE_LAKE_URL"])
    # An index file written before the stage_change column existed still reads.
    legacy = ci.candidate_rows(
        "late-arrivals@aaaaaaa", commit=commit("aaaaaaa", -5, "old"), scores=scores(0.5)
    )
    table = pa.Table.from_pandas(
        legacy.drop(columns="stage_change").astype({"committed_at": "datetime64[us, UTC]"}),
        preserve_index=False,
    )
    store.write(ci.index_table(TASK), None, table.schema, table.to_batches())
    for features, model, f_hour, m_hour, value, baseline in HISTORY:
        key = combo(features, model)
        info = ci.combined_commit(
            [
                ("late-features", commit(features, f_hour, "features")),
                ("late-arrivals", commit(model, m_hour, "model")),
            ]
        )
        frame = BLOCKING if features == F2 else BLOCKING.assign(verdict=NO_CHANGE)
        outcome = decide(frame, key, baseline)
        ci.index_candidate(
            store, TASK, key, commit=info, scores=scores(value), outcome=outcome, comparison=None
        )
    index = ci.read_index(store, TASK)
    assert index is not None
    per = ci.per_candidate(index).set_index("candidate")
    assert per["stage_change"].isna()["late-arrivals@aaaaaaa"]  # the legacy row: null
    assert per.loc[combo(F2, M1), "stage_change"] == f"stage late-features {F1}→{F2}"
    assert per.loc[combo(F2, M1), "message"] == "late-features: features"  # the newer stage
    assert per.loc[combo(F1, M2), "sha"] == M2 + "0" * 33  # the model stage's

    # The leaderboard frame of the index, stored where its asset stores it (the asset itself
    # runs in the end-to-end test): what the CLI reads.
    frame = leaderboard_frame(ci.scored(index))
    table = pa.Table.from_pandas(frame, schema=LEADERBOARD_SCHEMA, preserve_index=False)
    store.write("/".join(names.leaderboard_key(TASK).path), None, table.schema, table.to_batches())
    with variables_set(pipeline_home):
        with dg.DagsterInstance.get() as instance:  # the one the CLI opens
            instance.add_dynamic_partitions(
                names.candidate_partitions_name(TASK), [combo(f, m) for f, m, *_ in HISTORY]
            )
        board = stored_frame(store, names.leaderboard_key(TASK))
        assert board is not None
        overall = board[board["metric"] == "log_loss"]
        # One row per combination, in the order the combinations came to be.
        assert overall["candidate"].tolist()[1:] == [combo(F1, M1), combo(F2, M1), combo(F1, M2)]
        assert overall["commit"].tolist()[1:] == [f"{F1}+{M1}", f"{F2}+{M1}", f"{F1}+{M2}"]
        assert overall["stages"].iloc[1] == f"late-features@{F1} + late-arrivals@{M1}"
        assert overall["stages"].iloc[0] == ""  # a single repository
        assert f"| stage late-features {F1}→{F2} |" in markdown_table(board, metric="log_loss")

        runner = CliRunner()
        shown = runner.invoke(app, ["leaderboard", "--task", TASK, "--json"])
        assert shown.exit_code == 0, shown.output
        changed = {r["candidate"]: r["changed"] for r in json.loads(shown.output)}
        assert changed == {
            "late-arrivals@aaaaaaa": "",
            combo(F1, M1): "—",  # the first combination: no baseline
            combo(F2, M1): f"stage late-features {F1}→{F2}",
            combo(F1, M2): f"stage late-arrivals {M1}→{M2}",
        }
        listed = runner.invoke(app, ["candidates", "--repo", "late-features", "--json"])
        assert listed.exit_code == 0, listed.output
        rows = json.loads(listed.output)
        assert [r["candidate"] for r in rows] == [combo(F1, M2), combo(F2, M1), combo(F1, M1)]
        assert rows[1]["changed"] == f"stage late-features {F1}→{F2}"
        assert rows[1]["gate"] == "blocked" and rows[0]["gate"] == "passed"


def test_a_stage_commit_is_submitted_with_the_other_stages_at_their_reference(
    pipeline_home: dict[str, str], tmp_path: Path
) -> None:
    """Real git repositories for both stages: a features commit is combined with the model
    branch's head, or with the pinned champion; the keys holding it are found among others."""
    features = [
        add_commit(init_repository(tmp_path / "f"), SampleCommit(f"f{i}", {"f.py": f"# {i}\n"}))
        for i in range(2)
    ]
    models = [
        add_commit(
            init_repository(tmp_path / "repos" / "late-arrivals"),
            SampleCommit(f"m{i}", {"m.py": f"# {i}\n"}),
        )
        for i in range(3)
    ]
    with variables_set(pipeline_home):
        settings = load_settings()
        project = load_project(Path(pipeline_home["CLEARLAKE_CONFIG"]))
        found = reference_combination(
            project, settings, task=TASK, repo="late-features", sha=features[0]
        )
        assert found == {"late-features": features[0], "late-arrivals": models[-1]}
        assert list(found) == ["late-features", "late-arrivals"]
        raw = yaml.safe_load(Path(pipeline_home["CLEARLAKE_CONFIG"]).read_text())
        raw["tasks"][TASK]["pipeline"][1]["reference"] = {
            "policy": "champion",
            "commit": models[0][:9],
        }
        pinned = tmp_path / "pinned.yaml"
        pinned.write_text(yaml.safe_dump(raw, sort_keys=False))
        champion = reference_combination(
            load_project(pinned), settings, task=TASK, repo="late-features", sha=features[1]
        )
        assert champion == {"late-features": features[1], "late-arrivals": models[0]}
        with pytest.raises(ClearlakeError, match="flight-delays is not a stage of task"):
            reference_combination(project, settings, task=TASK, repo="flight-delays", sha="a" * 40)
    keys = [combo(features[0][:7], m[:7]) for m in models] + [combo(features[1][:7], M1)]
    assert with_stage([*keys, "late-arrivals@aaaaaaa"], "late-features", features[0]) == keys[:3]
