"""The compare view on real candidates: library, CLI, Data API and the gallery's page in
headless Chromium; slice discovery on a frame with a planted two-way regression."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
import numpy as np
import pandas as pd
import pytest
from evaluation_env import Evaluated
from typer.testing import CliRunner

from clearlake import names
from clearlake.cli.main import app
from clearlake.evaluation import gate
from clearlake.evaluation.candidates import COMMITS_TABLE
from clearlake.evaluation.compare import (
    AmbiguousCandidateError,
    CandidateComparison,
    ResultPaths,
    UnknownCandidateError,
    compare_candidates,
    resolve_pair,
)
from clearlake.evaluation.slices import discover_slices
from clearlake.lake.json_records import json_path, write_json
from clearlake.lake.store import LakeStore
from clearlake.orchestration.lineage import candidate_differences
from clearlake.reports import compare_page
from clearlake.reports.gallery import render_pages
from clearlake.reports.verdicts import pending_record

TASK = "arrival_delay"
REPO = "flight-delays"
CHROMIUM = Path("/usr/bin/chromium")


def _paths(task: str = TASK) -> ResultPaths:
    return ResultPaths(names.predictions_key(task).path, names.comparison_key(task).path)


# -- slice discovery on a synthetic frame ------------------------------------------------


def test_slice_discovery_finds_a_planted_two_way_regression() -> None:
    rng = np.random.default_rng(7)
    n = 6000
    labels = pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "west"], n),
            "basket": rng.choice(["small", "medium", "large"], n),
            "hour": rng.choice(["morning", "evening"], n),
        }
    )
    delta = rng.normal(0.0, 1.0, n)  # B and A equally good everywhere ...
    planted = (labels["region"] == "west") & (labels["basket"] == "large")
    delta[planted.to_numpy()] += 1.0  # ... except west & large: +1 per row
    found = discover_slices(
        labels, delta, columns=["region", "basket", "hour"], min_support=100, method="holm"
    )
    top = found.regressed().iloc[0]
    assert top["slice"] == "region=west & basket=large"
    assert top["level"] == 2 and top["n_rows"] == int(planted.sum())
    assert top["ci_low"] < 1.0 < top["ci_high"] and top["ci_low"] > 0.5
    assert found.tested == 3 + 3 + 2 + (9 + 6 + 6)  # one-way + two-way, nothing pruned
    # No significant slice lacks planted rows; without the plant, nothing is found among the
    # 29 slices tested (Holm over the family).
    hits = found.regressed()["slice"]
    assert not hits.str.contains("region=(?:north|south)|basket=(?:small|medium)").any(), hits
    noise = rng.normal(0.0, 1.0, n)
    assert (
        discover_slices(labels, noise, columns=["region", "basket", "hour"], min_support=100)
        .regressed()
        .empty
    )
    # Support prunes the lattice: with 1,000 rows a slice, no two-way slice survives.
    sparse = discover_slices(labels, delta, columns=["region", "basket"], min_support=1000)
    assert set(sparse.frame["level"]) == {1} and sparse.pruned == 9


# -- naming candidates -------------------------------------------------------------------


def test_names_resolve_by_key_sha_and_prefix_and_ambiguity_names_both(tmp_path: Path) -> None:
    store = LakeStore(str(tmp_path / "lake"))
    shas = {"r@abcd123": "abcd123" + "0" * 33, "r@abcd456": "abcd456" + "1" * 33}
    for key, sha in {**shas, "r@ffff000": "ffff000" + "2" * 33}.items():
        path = store.partition_file("/".join(_paths().predictions), f"key={key}")
        store.fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        store.fs.open_output_stream(path).close()
        write_json(store, json_path(store, COMMITS_TABLE, key), {"sha": sha or key})
    tasks = {TASK: _paths()}
    assert resolve_pair(store, ("r@abcd123", "ffff"), tasks) == (TASK, "r@abcd123", "r@ffff000")
    assert resolve_pair(store, ("abcd4", "abcd1230000"), tasks)[1:] == ("r@abcd456", "r@abcd123")
    assert resolve_pair(store, ("ABCD456" + "1" * 33, "ffff000"), tasks)[1] == "r@abcd456"
    with pytest.raises(AmbiguousCandidateError, match=r"matches r@abcd123 .* and r@abcd456"):
        resolve_pair(store, ("abcd", "ffff"), tasks)
    with pytest.raises(UnknownCandidateError, match=r"No evaluated candidate 'beef'"):
        resolve_pair(store, ("beef", "ffff"), tasks)


# -- the real history: flight-delays' regressing commit against the boosting one ---------


@pytest.fixture(scope="module")
def compared(evaluated: Evaluated) -> CandidateComparison:
    env = evaluated.env
    return compare_candidates(
        project=env.project,
        settings=env.settings,
        store=env.store,
        task_name=TASK,
        a=evaluated.key(REPO, 1),
        b=evaluated.key(REPO, 3),
        paths=_paths(),
        event_log=candidate_differences(env.instance),
    )


def test_regressed_subgroup_shows_in_deltas_flips_and_slices(
    evaluated: Evaluated, compared: CandidateComparison
) -> None:
    assert compared.rows_only_a == compared.rows_only_b == 0 and compared.rows_compared > 1000
    deltas = compared.deltas
    wn = deltas[(deltas["metric"] == "mae") & (deltas["subgroup"] == "WN")].iloc[0]
    assert wn["verdict"] == "regressed" and wn["ci_low"] > 0 and wn["delta"] > 0.5
    assert "compared now" in compared.deltas_source  # A is not B's gated baseline (docs commit)
    top = compared.flips.head(5)
    assert (top["carrier"] == "WN").all(), top
    assert np.allclose(top["prediction_b"] - top["prediction_a"], 5.0, atol=1e-6)
    assert {"dep_delay", "distance", "origin"} <= set(compared.flips.columns)  # feature values
    assert compared.slices.regressed()["slice"].str.contains("carrier=WN").iloc[0]
    assert "delay_model.py" in {f.path for f in compared.files or []}
    assert compared.parameters == []
    assert "Nudge Southwest" in compared.b.message and compared.a.sha.startswith(
        evaluated.env.shas[REPO][1]
    )
    kinds = {c.kind for c in compared.provenance}
    assert "code" in kinds, compared.provenance  # the candidate commit differs
    payload = json.loads(json.dumps(compared.to_json(), default=str))
    assert payload["rows"]["identical"] is True and payload["flips"]["worse"] > 0


def test_compare_command_prints_plain_text_and_json(evaluated: Evaluated) -> None:
    a, b = evaluated.key(REPO, 1), evaluated.env.shas[REPO][3][:9]
    result = CliRunner().invoke(app, ["compare", a, b, "--task", TASK])
    assert result.exit_code == 0, result.output
    text = result.output
    assert f"compare {a} (A, baseline side) with {evaluated.key(REPO, 3)} (B)" in text
    assert "identical rows" in text and "carrier=WN" in text and "regressed" in text
    assert "delay_model.py" in text and "slices that regressed most" in text
    assert "\u2502" not in text and "\u2500" not in text  # no box drawing: survives a pipe
    as_json = CliRunner().invoke(app, ["compare", a, b, "--json"])
    assert json.loads(as_json.output)["b"]["key"] == evaluated.key(REPO, 3)


def test_compare_command_unknown_candidate_exits_2_with_one_line(
    evaluated: Evaluated, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from clearlake.cli.main import main

    monkeypatch.setattr(sys, "argv", ["clearlake", "compare", "deadbeef", evaluated.key(REPO, 1)])
    with pytest.raises(SystemExit) as exited:
        main()  # the real entry point: its error funnel prints one line, exit 2
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "deadbeef" in lines[0] and "clearlake candidates" in lines[0]


def test_compare_endpoint_under_dataset_grants(evaluated: Evaluated, tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "api"))
    from live_api import EXAMPLE_POLICY, MASK_KEY, app_in_thread

    from clearlake.api.app import create_app
    from clearlake.api.config import load_api_config
    from clearlake.api.tokens import issue_token
    from clearlake.settings import load_settings

    tokens = tmp_path / "tokens.yaml"
    viewers = {
        "stew": issue_token(tokens, principal="stew", roles=["steward"]),
        "pat": issue_token(tokens, principal="pat", roles=["partner"]),  # no weather
    }
    settings = load_settings(
        {
            **evaluated.env.variables,
            "CLEARLAKE_API_POLICY": str(EXAMPLE_POLICY),
            "CLEARLAKE_API_TOKENS_FILE": str(tokens),
            "CLEARLAKE_API_MASK_KEY": MASK_KEY,
        }
    )
    a, b = evaluated.key(REPO, 1), evaluated.key(REPO, 3)
    with app_in_thread(create_app(load_api_config(settings))) as url:

        def get(who: str | None, **params: str) -> httpx.Response:
            auth = {"Authorization": f"Bearer {viewers[who]}"} if who else {}
            return httpx.get(f"{url}/v1/compare", params=params, headers=auth, timeout=120)

        ok = get("stew", a=a, b=b)
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["task"] == TASK and body["rows"]["identical"] is True
        wn = [d for d in body["deltas"] if d["metric"] == "mae" and d["subgroup"] == "WN"]
        assert wn[0]["verdict"] == "regressed"
        assert body["flips"]["rows_shown"][0]["carrier"] == "WN"
        assert get(None, a=a, b=b).status_code == 401
        refused = get("pat", a=a, b=b, task=TASK)
        assert refused.status_code == 403 and "weather" in refused.json()["detail"]
        unknown = get("stew", a="deadbeef", b=b)
        assert unknown.status_code == 404 and "deadbeef" in unknown.json()["detail"]


def test_compare_page_in_chromium(
    evaluated: Evaluated, compared: CandidateComparison, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    root = tmp_path / "reports"
    page_file = compare_page.write_page(root, compared)
    # The commit page links to it ("compare with its baseline").
    outcome = gate.GateOutcome(
        status=gate.BLOCKED, candidate=compared.b.key, task=TASK, baseline=compared.a.key,
        baseline_note="test",
    )  # fmt: skip
    pages = render_pages([pending_record(outcome, stored_at=None)], {})
    link = compare_page.page_path(TASK, compared.a.key, compared.b.key)
    commit = next(p for p in pages if p.startswith("candidates/")).encode()
    assert f"../../{quote(link)}".encode() in pages[commit.decode()]
    assert (root / link) == page_file
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing at /usr/bin/chromium: run `make browser`.")
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=flags
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(page_file.as_uri())
        text = page.inner_text("body")
        page.screenshot(path=tmp_path / "compare-page.png", full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        svg = page.locator("svg circle").count()
        browser.close()
    assert overflow <= 0, f"horizontal overflow of {overflow} px at 1,280 px"
    assert f"Compare {compared.a.key} → {compared.b.key}" in text
    assert "carrier=WN" in text and "regressed" in text and "Nudge Southwest" in text
    assert "Slices that regressed most" in text and "delay_model.py" in text
    assert svg >= 10  # one dot per subgroup of the primary metric
    assert (tmp_path / "compare-page.png").stat().st_size > 10_000


def test_gallery_builds_each_baseline_page_once(
    compared: CandidateComparison, tmp_path: Path
) -> None:
    """Gallery builds in a row: a page per gated candidate with a baseline, then only for
    outcomes stored since (the builder's index), never again for the same record."""
    store = LakeStore(str(tmp_path / "lake"))
    calls: list[tuple[str, str, str]] = []

    def compare(task: str, a: str, b: str) -> CandidateComparison:
        calls.append((task, a, b))
        return compared

    def outcome(key: str, baseline: str | None) -> gate.GateOutcome:
        status = gate.PASSED if baseline else gate.NO_BASELINE
        return gate.GateOutcome(status, key, TASK, baseline, "test")

    gate.save_outcome(store, TASK, outcome("r@0000001", None))
    gate.save_outcome(store, TASK, outcome("r@0000002", "r@0000001"))
    root = tmp_path / "reports"

    def build() -> list[Path]:
        return compare_page.build_baseline_pages(root, store=store, tasks=[TASK], compare=compare)

    first = build()
    assert calls == [(TASK, "r@0000001", "r@0000002")] and first[0].is_file()
    assert build() == [] and len(calls) == 1  # nothing new: nothing compared
    gate.save_outcome(store, TASK, outcome("r@0000003", "r@0000002"))
    assert len(build()) == 1 and calls[-1] == (TASK, "r@0000002", "r@0000003")
