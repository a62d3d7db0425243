"""``clearlake leaderboard`` and ``clearlake candidates`` on the evaluated history.

CliRunner's stdout is not a terminal, so the listings come as tab-separated rows there;
one real subprocess per output mode checks the script as a person pipes it or reads it on
a terminal (a pseudo-terminal).
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from evaluation_env import BROKEN, HANGING, Evaluated
from typer.testing import CliRunner, Result

from clearlake import names
from clearlake.cli.main import app, main
from clearlake.evaluation import gate
from clearlake.evaluation.results import stored_frame

SCRIPT = str(Path(sys.executable).with_name("clearlake"))


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def fails(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run ``clearlake ARGS`` through its entry point in this process; assert the one-line
    error and exit code 2 a person gets, and return that line."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["clearlake", *args])
        with pytest.raises(SystemExit) as ended:
            main()
    out, err = capsys.readouterr()
    assert ended.value.code == 2, (args, out, err)
    assert out == "" and len(err.splitlines()) == 1, (args, out, err)
    return err


def rows(text: str) -> list[dict[str, str]]:
    """Tab-separated output (header first) as records."""
    header, *lines = text.splitlines()
    return [dict(zip(header.split("\t"), line.split("\t"), strict=True)) for line in lines]


def test_leaderboard_command(evaluated: Evaluated, capsys: pytest.CaptureFixture[str]) -> None:
    result = invoke("leaderboard", "--task", "arrival_delay")
    assert result.exit_code == 0, result.output
    board = rows(result.stdout)
    assert {r["metric"] for r in board} == {"mae"} and {r["subgroup"] for r in board} == {"overall"}
    assert [r["candidate"] for r in board][:2] == [
        evaluated.key("flight-delays", 0),
        evaluated.key("flight-delays", 1),
    ]
    second = board[1]
    assert second["gate"] == "passed"
    naive = evaluated.key("flight-delays", 0)  # the boosting improved on it, and says so
    assert second["summary"].startswith((f"improved vs {naive}", f"passed vs {naive}"))
    assert "improved" in second["summary"]
    assert "leaderboards/arrival_delay.png" in result.stderr  # notes stay out of the rows
    higher = invoke("leaderboard", "--task", "arrival_delay", "--metric", "within_15", "--json")
    assert {r["metric"] for r in json.loads(higher.stdout)} == {"within_15"}
    assert "No 'accuracy' scores" in fails(capsys, "leaderboard", "--metric", "accuracy")
    assert fails(capsys, "leaderboard", "--task", "nope").startswith("error: Unknown task 'nope'")


def test_leaderboard_of_one_subgroup_reads_its_stored_scores(
    evaluated: Evaluated, capsys: pytest.CaptureFixture[str]
) -> None:
    """The blocked commit regressed for carrier=WN only: the subgroup's trend shows it."""
    result = invoke("leaderboard", "--task", "arrival_delay", "--subgroup", "carrier=WN", "--json")
    assert result.exit_code == 0, result.output
    board = {r["candidate"]: r for r in json.loads(result.stdout)}
    blocked = evaluated.key("flight-delays", 3)
    assert board[blocked]["subgroup"] == "carrier=WN" and board[blocked]["gate"] == "blocked"
    assert board[blocked]["verdict"] == "regressed"
    scores = stored_frame(evaluated.env.store, names.scores_key("arrival_delay"), candidate=blocked)
    assert scores is not None
    stored = scores[
        (scores["metric"] == "mae")
        & (scores["subgroup_kind"] == "carrier")
        & (scores["subgroup"] == "WN")
    ]
    assert board[blocked]["value"] == float(stored["value"].iloc[0])
    parent = board[evaluated.key("flight-delays", 1)]
    assert board[blocked]["value"] > parent["ci_high"]  # worse where the gate said
    missing = fails(capsys, "leaderboard", "--task", "arrival_delay", "--subgroup", "carrier=ZZ")
    assert "Unknown subgroup carrier=ZZ" in missing and "WN" in missing
    assert "write COLUMN=VALUE" in fails(capsys, "leaderboard", "--subgroup", "carrier")


def test_candidates_report_gate_outcomes_newest_first(evaluated: Evaluated) -> None:
    result = invoke("candidates", "--json", "--limit", "100")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert [r["committed"] for r in found] == sorted((r["committed"] for r in found), reverse=True)
    by_key = {r["candidate"]: r for r in found}
    for key, row in by_key.items():
        outcome = gate.load_outcome(evaluated.env.store, row["task"], key)
        if outcome is not None:  # the stored outcome, whatever the run's status
            assert row["gate"] == outcome.status and row["detail"] == outcome.headline()
    blocked = by_key[evaluated.key("flight-delays", 3)]
    assert blocked["gate"] == "blocked" and "mae for carrier=WN" in blocked["detail"]
    assert blocked["message"] == "Nudge Southwest (WN) arrivals later"
    hanging = by_key[evaluated.key(HANGING, 0)]
    assert hanging["gate"] == "failed" and "did not finish within" in hanging["detail"]
    crashed = by_key[evaluated.key(BROKEN, 0)]  # "Crash in fit": no outcome, a failed run
    assert crashed["gate"] == "failed" and "boom: no column named delay" in crashed["detail"]
    assert by_key[evaluated.key(BROKEN, 4)]["message"] == "Working again"
    page = invoke("candidates", "--json", "--limit", "2", "--offset", "1")
    assert json.loads(page.stdout) == found[1:3]
    listed = invoke("candidates", "--limit", "2")
    assert len(rows(listed.stdout)) == 2
    assert f"showing 1–2 of {len(found)}: --offset 2 for more" in listed.stderr
    only = rows(invoke("candidates", "--repo", HANGING).stdout)
    assert [r["candidate"] for r in only] == [evaluated.key(HANGING, 0)]


def test_candidates_unknown_names_exit_2(
    evaluated: Evaluated, capsys: pytest.CaptureFixture[str]
) -> None:
    for args, message in [
        (["--task", "nope"], "error: Unknown task 'nope'"),
        (["--repo", "nope"], "error: Unknown repository 'nope'"),
        (["--repo", HANGING, "--task", "nope"], f"error: Repository {HANGING} is evaluated"),
    ]:
        assert fails(capsys, "candidates", *args).startswith(message)


def test_candidates_piped_and_on_a_terminal(evaluated: Evaluated) -> None:
    """Piped: full rows, tab-separated. On a terminal (a real one: the script on a
    pseudo-terminal): a table, messages cut at a word."""
    env = {**os.environ, "COLUMNS": "120", "LINES": "50"}
    piped = rows(invoke("candidates").stdout)  # CliRunner's stdout is not a terminal either
    boosting = next(r for r in piped if r["candidate"] == evaluated.key("flight-delays", 1))
    assert boosting["message"].endswith("departure delay, schedule, route and weather")
    assert boosting["detail"].startswith(("improved vs", "passed vs"))
    main, child = pty.openpty()
    with subprocess.Popen([SCRIPT, "candidates"], env=env, stdout=child, stderr=child) as proc:
        os.close(child)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=120) == 0
    os.close(main)
    screen = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode())  # no colours
    assert "┃ candidate" in screen and "\t" not in screen
    assert "delay…" in screen and "route and weather" not in screen  # cut after a word
